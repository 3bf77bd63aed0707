/* frost.h - FROST(Ed25519, SHA-512) threshold Schnorr signatures (RFC 9591)
 * over libsodium, and membership changes that keep the group key: refresh,
 * repair (repairable threshold scheme) and reshare to a new set and
 * threshold.
 *
 * Conventions
 *  - Every function returns FROST_OK (0) or a frost_error code.  Outputs are
 *    meaningful only on FROST_OK, except culprit lists, which are filled
 *    with the error that names culprits.  On error no secret (share, nonce,
 *    coefficient) is left in an output buffer, and signature and
 *    signature-share outputs are zero.
 *  - Scalars are 32 bytes little-endian and must be canonical (< L).
 *    Points are 32-byte RFC 8032 encodings and must be canonical, not the
 *    identity and in the prime-order subgroup.
 *  - Identifiers are uint32_t >= 1; on the wire they are the scalar encoding
 *    (32 bytes little-endian).  Lists of identifiers (and of commitments,
 *    which carry them) must be strictly increasing.
 *  - "n x 32 bytes" arrays are flat: element k at offset 32*k.  A VSS or DKG
 *    commitment is min_signers points [a_0]B .. [a_{t-1}]B, flat likewise.
 *  - Secret outputs are the caller's to wipe; everything secret the library
 *    holds internally is wiped before it returns.
 *  - libsodium is initialised on first use; FROST_ERR_INIT if that fails.
 *  - Nothing here is variable-time in a secret.  Public-data computations
 *    (points, verification, aggregation) are variable time.
 *  - A "dealing" is a VSS sharing one participant makes for others: a
 *    secret share (32 bytes) for each recipient, to be sent encrypted and
 *    authenticated, and a public commitment (t points), broadcast.  Culprit
 *    lists name the dealers (or helpers) whose dealing fails a check.
 * Spec of encodings, DKG proof, membership changes and validation rules:
 * spec/frost.md.
 */
#ifndef FROST_H
#define FROST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FROST_SCALAR_BYTES 32
#define FROST_POINT_BYTES 32
#define FROST_SIGNATURE_BYTES 64
#define FROST_PROOF_BYTES 64
#define FROST_BINDING_INPUT_BYTES 192
#define FROST_MAX_PARTICIPANTS 4096

typedef enum {
    FROST_OK = 0,
    FROST_ERR_INIT = 1,                    /* libsodium could not be initialised */
    FROST_ERR_PARAMS = 2,                  /* count or threshold out of range, NULL pointer */
    FROST_ERR_ZERO_IDENTIFIER = 3,         /* an identifier is 0 */
    FROST_ERR_DUPLICATE_IDENTIFIER = 4,    /* an identifier appears twice in a list */
    FROST_ERR_UNSORTED_IDENTIFIERS = 5,    /* a list is not in increasing identifier order */
    FROST_ERR_UNKNOWN_IDENTIFIER = 6,      /* own identifier missing from the list */
    FROST_ERR_BAD_SCALAR = 7,              /* scalar >= L, or zero where zero is not allowed */
    FROST_ERR_BAD_POINT = 8,               /* not a valid element (see Conventions) */
    FROST_ERR_BAD_NONCES = 9,              /* nonces zero (used) or not matching own commitment */
    FROST_ERR_INVALID_SHARE = 10,          /* secret share fails its VSS check (culprits named) */
    FROST_ERR_INVALID_PROOF = 11,          /* DKG proof of knowledge fails (culprits named) */
    FROST_ERR_INVALID_SIGNATURE_SHARE = 12,/* signature share fails (culprits named) */
    FROST_ERR_INVALID_SIGNATURE = 13,      /* signature does not verify */
    FROST_ERR_NO_MEMORY = 14,              /* allocation failed */
    FROST_ERR_INTERNAL = 15,               /* a libsodium operation failed unexpectedly */
    FROST_ERR_MISMATCH = 16                /* key material inconsistent with the group's public keys */
} frost_error;

/* A participant's round-one commitment, as sent to the coordinator. */
typedef struct {
    uint32_t identifier;
    unsigned char hiding[32];              /* D = [hiding nonce]B */
    unsigned char binding[32];             /* E = [binding nonce]B */
} frost_commitment;

/* A participant's round-one secret: use for exactly one frost_sign. */
typedef struct {
    unsigned char hiding[32];              /* secret scalar d */
    unsigned char binding[32];             /* secret scalar e */
    unsigned char hiding_commitment[32];   /* [d]B */
    unsigned char binding_commitment[32];  /* [e]B */
} frost_nonces;

/** Name an error code.
 *
 *  Returns: a static lowercase string ("unknown error" for unknown codes).
 *  In:      err: a frost_error value.
 */
const char *frost_strerror(int err);

/** Check that 32 bytes encode a canonical scalar (constant time).
 *
 *  Returns: FROST_OK if s < L, FROST_ERR_BAD_SCALAR otherwise.
 *  In:      s: 32 bytes.
 */
int frost_validate_scalar(const unsigned char *s);

/** Check that 32 bytes encode a valid group element.
 *
 *  Returns: FROST_OK, or FROST_ERR_BAD_POINT for a non-canonical encoding,
 *           a point off the curve, the identity, or a point outside the
 *           prime-order subgroup.
 *  In:      p: 32 bytes.
 */
int frost_validate_point(const unsigned char *p);

/** Trusted-dealer key generation with VSS commitment (RFC 9591 App. C).
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS unless 2 <= min_signers <=
 *           max_signers <= FROST_MAX_PARTICIPANTS; identifier errors;
 *           FROST_ERR_BAD_SCALAR for a given secret or coefficient that
 *           is >= L or zero.
 *  Out:     shares:           max_signers x 32 bytes, signing share of
 *                             identifiers[k] at k (secret).
 *           vss_commitment:   min_signers x 32 bytes.
 *           group_public_key: 32 bytes (= vss_commitment[0]).
 *  In:      identifiers:      max_signers identifiers, increasing.
 *           max_signers, min_signers: n and t.
 *           secret:           32-byte group secret key, or NULL to draw one.
 *           coefficients:     (min_signers - 1) x 32 bytes a_1..a_{t-1}, or
 *                             NULL to draw them.  Only for known-answer tests.
 */
int frost_dealer_keygen(unsigned char *shares, unsigned char *vss_commitment,
                        unsigned char *group_public_key,
                        const uint32_t *identifiers, size_t max_signers, size_t min_signers,
                        const unsigned char *secret, const unsigned char *coefficients);

/** Verify a secret share against a VSS commitment: [share]B == sum_j [id^j]C_j.
 *  Used for dealer shares and for DKG round-2 shares.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE if the check fails or the
 *           share is >= L or zero; FROST_ERR_BAD_POINT for a malformed
 *           commitment; FROST_ERR_ZERO_IDENTIFIER; FROST_ERR_PARAMS.
 *  In:      identifier:     the share's owner.
 *           share:          32 bytes (secret).
 *           vss_commitment: min_signers x 32 bytes.
 *           min_signers:    2 ..= FROST_MAX_PARTICIPANTS.
 */
int frost_vss_verify(uint32_t identifier, const unsigned char *share,
                     const unsigned char *vss_commitment, size_t min_signers);

/** Group public key and verifying shares from one or more VSS commitments
 *  (one for a dealer; every participant's round-1 commitment for a DKG):
 *  with C_j = sum over commitments of their j-th point, PK = C_0 and
 *  Y_i = sum_j [i^j]C_j.  Verifies nothing else: check DKG proofs first.
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS; identifier errors;
 *           FROST_ERR_BAD_POINT for a malformed point or a result that is
 *           the identity.
 *  Out:     group_public_key: 32 bytes.
 *           verifying_shares: n_identifiers x 32 bytes, Y of identifiers[k] at k.
 *  In:      identifiers:      n_identifiers identifiers, increasing.
 *           commitments:      n_commitments x min_signers x 32 bytes.
 *           min_signers:      points per commitment, >= 2.
 */
int frost_public_key_package(unsigned char *group_public_key, unsigned char *verifying_shares,
                             const uint32_t *identifiers, size_t n_identifiers,
                             const unsigned char *commitments, size_t n_commitments,
                             size_t min_signers);

/** DKG round 1: draw a secret polynomial, commit to it, and prove knowledge
 *  of its constant term (Schnorr proof bound to context and identifier).
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS; FROST_ERR_ZERO_IDENTIFIER.
 *  Out:     coefficients: min_signers x 32 bytes a_0..a_{t-1} (secret).
 *           commitment:   min_signers x 32 bytes [a_j]B.
 *           proof:        64 bytes R || mu.
 *  In:      identifier:   own identifier.
 *           max_signers, min_signers: n and t, 2 <= t <= n <= FROST_MAX_PARTICIPANTS.
 *           context:      ceremony id bound into the proof (context_len may be 0).
 */
int frost_dkg_part1(unsigned char *coefficients, unsigned char *commitment, unsigned char *proof,
                    uint32_t identifier, size_t max_signers, size_t min_signers,
                    const unsigned char *context, size_t context_len);

/** Verify one DKG proof of knowledge.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_PROOF; FROST_ERR_BAD_POINT for a
 *           malformed commitment; FROST_ERR_ZERO_IDENTIFIER; FROST_ERR_PARAMS.
 *  In:      identifier:  the prover.
 *           commitment:  min_signers x 32 bytes.
 *           proof:       64 bytes.
 *           context:     the ceremony id.
 */
int frost_dkg_verify_proof(uint32_t identifier, const unsigned char *commitment, size_t min_signers,
                           const unsigned char *proof,
                           const unsigned char *context, size_t context_len);

/** DKG round 2: verify every peer's proof, then evaluate the own polynomial
 *  for each peer and for oneself.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_PROOF with every failing peer in
 *           culprits (a malformed commitment counts as a failing proof);
 *           FROST_ERR_PARAMS (n_peers + 1 < min_signers or too many);
 *           identifier errors (own identifier among peers is
 *           FROST_ERR_DUPLICATE_IDENTIFIER); FROST_ERR_BAD_SCALAR.
 *  Out:     shares:       n_peers x 32 bytes, f(peer_identifiers[k]) (secret).
 *           own_share:    32 bytes f(identifier) (secret).
 *           culprits:     capacity n_peers; failing peers, increasing.
 *           n_culprits:   number written.
 *  In:      identifier:   own identifier.
 *           coefficients: min_signers x 32 bytes from frost_dkg_part1 (secret).
 *           peer_identifiers, peer_commitments (n_peers x min_signers x 32),
 *           peer_proofs (n_peers x 64): the other participants' round-1 data,
 *           in increasing identifier order.
 *           context:      the ceremony id.
 */
int frost_dkg_part2(unsigned char *shares, unsigned char *own_share,
                    uint32_t *culprits, size_t *n_culprits,
                    uint32_t identifier, const unsigned char *coefficients, size_t min_signers,
                    const uint32_t *peer_identifiers, const unsigned char *peer_commitments,
                    const unsigned char *peer_proofs, size_t n_peers,
                    const unsigned char *context, size_t context_len);

/** DKG round 3: verify every received share against its sender's
 *  commitment, then derive the signing share, the group key and everyone's
 *  verifying share.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE with every failing sender in
 *           culprits; FROST_ERR_PARAMS; identifier errors;
 *           FROST_ERR_UNKNOWN_IDENTIFIER; FROST_ERR_BAD_POINT.
 *  Out:     signing_share:    32 bytes (secret).
 *           group_public_key: 32 bytes.
 *           verifying_shares: n x 32 bytes, of identifiers[k] at k.
 *           culprits:         capacity n; failing senders, increasing.
 *           n_culprits:       number written.
 *  In:      identifier:  own identifier, one of identifiers.
 *           identifiers: all n participants, increasing.
 *           commitments: n x min_signers x 32 bytes, of identifiers[k] at k.
 *           shares:      n x 32 bytes, the share identifiers[k] sent to us;
 *                        at our own index, own_share from frost_dkg_part2.
 */
int frost_dkg_part3(unsigned char *signing_share, unsigned char *group_public_key,
                    unsigned char *verifying_shares, uint32_t *culprits, size_t *n_culprits,
                    uint32_t identifier, const uint32_t *identifiers,
                    const unsigned char *commitments, const unsigned char *shares,
                    size_t n, size_t min_signers);

/** Round 1: hedged nonces (RFC 9591 4.1: nonce = H3(random || share)) and
 *  their commitments.
 *
 *  Returns: FROST_OK; FROST_ERR_ZERO_IDENTIFIER; FROST_ERR_BAD_SCALAR.
 *  Out:     nonces:         secret; pass to exactly one frost_sign.
 *           commitment:     to send to the coordinator.
 *  In:      identifier:     own identifier.
 *           signing_share:  32 bytes (secret).
 *           hiding_random, binding_random: 32 bytes each, or NULL to draw
 *                           from the system RNG.  Only for known-answer tests.
 */
int frost_commit(frost_nonces *nonces, frost_commitment *commitment, uint32_t identifier,
                 const unsigned char *signing_share,
                 const unsigned char *hiding_random, const unsigned char *binding_random);

/** Binding factors rho_i = H1(PK || H4(msg) || H5(commitment list) || id_i)
 *  of every signer (RFC 9591 4.4); for inspection and known-answer tests.
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS; identifier errors; FROST_ERR_BAD_POINT.
 *  Out:     binding_factors: n x 32 bytes.
 *           binding_inputs:  n x 192 bytes (the H1 inputs), or NULL.
 *  In:      group_public_key: 32 bytes.
 *           commitments:      n commitments, increasing identifiers.
 *           msg:              msg_len bytes.
 */
int frost_binding_factors(unsigned char *binding_factors, unsigned char *binding_inputs,
                          const unsigned char *group_public_key,
                          const frost_commitment *commitments, size_t n,
                          const unsigned char *msg, size_t msg_len);

/** Round 2: compute this signer's signature share (RFC 9591 5.2).
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS (n < min_signers, min_signers < 2);
 *           identifier errors; FROST_ERR_UNKNOWN_IDENTIFIER when identifier
 *           is not in the list; FROST_ERR_BAD_NONCES when the nonces are
 *           zero or the list's entry for identifier is not their
 *           commitment; FROST_ERR_BAD_POINT; FROST_ERR_BAD_SCALAR.
 *  Args:    nonces:  from frost_commit; wiped on return, whatever the result.
 *  Out:     signature_share: 32 bytes.
 *  In:      msg:              msg_len bytes.
 *           commitments:      n commitments, increasing identifiers.
 *           identifier, signing_share (secret), group_public_key,
 *           min_signers:      this signer's key package.
 */
int frost_sign(unsigned char *signature_share, frost_nonces *nonces,
               const unsigned char *msg, size_t msg_len,
               const frost_commitment *commitments, size_t n,
               uint32_t identifier, const unsigned char *signing_share,
               const unsigned char *group_public_key, size_t min_signers);

/** Verify one signature share (RFC 9591 5.4).
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SIGNATURE_SHARE (also for a share
 *           >= L); FROST_ERR_UNKNOWN_IDENTIFIER; FROST_ERR_PARAMS;
 *           identifier errors; FROST_ERR_BAD_POINT.
 *  In:      identifier:       the share's signer, in the list.
 *           signature_share:  32 bytes.
 *           verifying_share:  32 bytes, the signer's Y.
 *           msg, commitments, n, group_public_key: as for frost_sign.
 */
int frost_verify_signature_share(uint32_t identifier, const unsigned char *signature_share,
                                 const unsigned char *verifying_share,
                                 const unsigned char *msg, size_t msg_len,
                                 const frost_commitment *commitments, size_t n,
                                 const unsigned char *group_public_key);

/** Aggregate the signature shares (RFC 9591 5.3) and verify the result;
 *  only if it fails, verify every share (5.4) to name the culprits.  The
 *  verifying shares are decoded and validated only then.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SIGNATURE_SHARE with every failing
 *           signer in culprits; FROST_ERR_INVALID_SIGNATURE if all shares
 *           pass but the signature does not (verifying shares inconsistent
 *           with the group key); FROST_ERR_PARAMS (n < min_signers);
 *           identifier errors; FROST_ERR_BAD_POINT (for a verifying share:
 *           only when the signature fails); FROST_ERR_NO_MEMORY.
 *  Out:     signature:        64 bytes R || z, a plain RFC 8032 signature.
 *           culprits:         capacity n; failing signers, increasing.
 *           n_culprits:       number written.
 *  In:      msg:              msg_len bytes.
 *           commitments:      n commitments, increasing identifiers.
 *           signature_shares: n x 32 bytes, of commitments[k].identifier at k.
 *           verifying_shares: n x 32 bytes, of commitments[k].identifier at k.
 *           group_public_key: 32 bytes.
 *           min_signers:      the threshold, >= 2.
 */
int frost_aggregate(unsigned char *signature, uint32_t *culprits, size_t *n_culprits,
                    const unsigned char *msg, size_t msg_len,
                    const frost_commitment *commitments, size_t n,
                    const unsigned char *signature_shares, const unsigned char *verifying_shares,
                    const unsigned char *group_public_key, size_t min_signers);

/** Verify a signature with the cofactored equation [8][z]B == [8]R + [8][c]PK
 *  (RFC 9591 6.1), c = H2(R || PK || msg).  R must be a valid element and
 *  z < L, so what verifies here also verifies under RFC 8032.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SIGNATURE; FROST_ERR_BAD_POINT for
 *           an invalid group public key.
 *  In:      signature: 64 bytes.  msg: msg_len bytes.  group_public_key: 32 bytes.
 */
int frost_verify(const unsigned char *signature, const unsigned char *msg, size_t msg_len,
                 const unsigned char *group_public_key);

/* ---- refresh: new shares of the same secret for the same members ----------
 * Every member deals a VSS sharing of zero to all members (itself included);
 * each member adds what it receives to its share.  The group key stays, the
 * verifying shares change, old and new shares do not combine. */

/** Refresh, dealer: a random polynomial with constant term zero, evaluated
 *  for every member.
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS unless 2 <= min_signers <= n <=
 *           FROST_MAX_PARTICIPANTS; identifier errors.
 *  Out:     shares:      n x 32 bytes, g(identifiers[k]) at k (secret).
 *           commitment:  min_signers x 32 bytes, [b_j]B; commitment[0] is
 *                        the identity encoding (01 00 .. 00).
 *  In:      identifiers: the n members, increasing.
 *           min_signers: the group's threshold (unchanged by a refresh).
 */
int frost_refresh_deal(unsigned char *shares, unsigned char *commitment,
                       const uint32_t *identifiers, size_t n, size_t min_signers);

/** Refresh, anyone: the new verifying shares from the old ones and every
 *  member's refresh commitment, Y'_m = Y_m + sum_k sum_j [m^j]C_{k,j}.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE with every dealer whose
 *           commitment is malformed or whose constant term is not the
 *           identity in culprits; FROST_ERR_BAD_POINT for an invalid old
 *           verifying share; FROST_ERR_PARAMS; identifier errors.
 *  Out:     new_verifying_shares: n x 32 bytes, of identifiers[k] at k.
 *           culprits:         capacity n; failing dealers, increasing.
 *           n_culprits:       number written.
 *  In:      identifiers:      the n members (dealers and recipients), increasing.
 *           verifying_shares: n x 32 bytes, their current verifying shares.
 *           commitments:      n x min_signers x 32 bytes, of identifiers[k] at k.
 *           min_signers:      the group's threshold.
 */
int frost_refresh_public_key_package(unsigned char *new_verifying_shares,
                                     uint32_t *culprits, size_t *n_culprits,
                                     const uint32_t *identifiers,
                                     const unsigned char *verifying_shares, size_t n,
                                     const unsigned char *commitments, size_t min_signers);

/** Refresh, member: verify every dealing addressed to us, add the shares
 *  to our signing share, and derive everyone's new verifying share.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE with every failing dealer
 *           (bad commitment, or a share not matching it) in culprits;
 *           FROST_ERR_MISMATCH if the new share does not match our new
 *           verifying share (our old share did not match our old verifying
 *           share); FROST_ERR_UNKNOWN_IDENTIFIER; FROST_ERR_BAD_SCALAR;
 *           FROST_ERR_BAD_POINT; FROST_ERR_PARAMS; identifier errors.
 *  Out:     new_signing_share:    32 bytes (secret).
 *           new_verifying_shares: n x 32 bytes, of identifiers[k] at k.
 *           culprits:             capacity n; failing dealers, increasing.
 *           n_culprits:           number written.
 *  In:      identifier:       own identifier, one of identifiers.
 *           signing_share:    32 bytes, our current share (secret).
 *           identifiers, verifying_shares, n, commitments, min_signers: as
 *                             for frost_refresh_public_key_package.
 *           shares:           n x 32 bytes, the share identifiers[k] dealt to
 *                             us (our own dealing's at our index) (secret).
 */
int frost_refresh_finish(unsigned char *new_signing_share, unsigned char *new_verifying_shares,
                         uint32_t *culprits, size_t *n_culprits,
                         uint32_t identifier, const unsigned char *signing_share,
                         const uint32_t *identifiers, const unsigned char *verifying_shares,
                         size_t n, const unsigned char *commitments, const unsigned char *shares,
                         size_t min_signers);

/* ---- reshare: the same secret to a new set of members and threshold -------
 * Each old member i of a qualified subset S (|S| >= old threshold) deals a
 * VSS sharing of lambda_i s_i (its Lagrange-weighted share) to the new
 * members, with new threshold t'.  The dealing's constant-term commitment
 * must be [lambda_i]Y_i; the new shares are the sums; the group key is kept. */

/** Reshare, old member of S: deal lambda_i * s_i to the new members.
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS unless min_signers <= n_signers and
 *           2 <= new_min_signers <= new_n <= FROST_MAX_PARTICIPANTS;
 *           identifier errors; FROST_ERR_UNKNOWN_IDENTIFIER (identifier not
 *           in signers); FROST_ERR_BAD_SCALAR.
 *  Out:     shares:      new_n x 32 bytes, for new_identifiers[k] at k (secret).
 *           commitment:  new_min_signers x 32 bytes; commitment[0] = [lambda_i s_i]B.
 *  In:      identifier, signing_share (secret), min_signers: our key package.
 *           signers:     S, n_signers identifiers, increasing, with ours.
 *           new_identifiers: the new_n new members, increasing.
 *           new_min_signers: the new threshold.
 */
int frost_reshare_deal(unsigned char *shares, unsigned char *commitment,
                       uint32_t identifier, const unsigned char *signing_share,
                       size_t min_signers, const uint32_t *signers, size_t n_signers,
                       const uint32_t *new_identifiers, size_t new_n, size_t new_min_signers);

/** Reshare, anyone: check every dealer's commitment against the old
 *  group's verifying shares and derive the new verifying shares.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE with every dealer whose
 *           commitment is malformed or whose constant term is not
 *           [lambda_i]Y_i in culprits; FROST_ERR_MISMATCH if the dealings
 *           do not sum to the group key (the old verifying shares do not
 *           interpolate to it); FROST_ERR_BAD_POINT; FROST_ERR_PARAMS;
 *           identifier errors.
 *  Out:     new_verifying_shares: new_n x 32 bytes, of new_identifiers[k] at k.
 *           culprits:        capacity n_signers; failing dealers, increasing.
 *           n_culprits:      number written.
 *  In:      group_public_key, min_signers: the old group's.
 *           signers:         S, increasing.
 *           signer_verifying_shares: n_signers x 32 bytes, Y of signers[k] at k.
 *           new_identifiers, new_n, new_min_signers: the new group.
 *           commitments:     n_signers x new_min_signers x 32 bytes, of signers[k] at k.
 */
int frost_reshare_public_key_package(unsigned char *new_verifying_shares,
                                     uint32_t *culprits, size_t *n_culprits,
                                     const unsigned char *group_public_key, size_t min_signers,
                                     const uint32_t *signers,
                                     const unsigned char *signer_verifying_shares,
                                     size_t n_signers,
                                     const uint32_t *new_identifiers, size_t new_n,
                                     const unsigned char *commitments, size_t new_min_signers);

/** Reshare, new member: verify every dealing addressed to us, sum the
 *  shares into our new signing share, derive the new verifying shares.
 *
 *  Returns: as frost_reshare_public_key_package, and FROST_ERR_INVALID_SHARE
 *           also names dealers whose share does not match their
 *           commitment; FROST_ERR_UNKNOWN_IDENTIFIER (not a new member).
 *  Out:     new_signing_share:    32 bytes (secret).
 *           new_verifying_shares: new_n x 32 bytes.
 *           culprits, n_culprits: as frost_reshare_public_key_package.
 *  In:      identifier:  own identifier, one of new_identifiers.
 *           shares:      n_signers x 32 bytes, dealt to us by signers[k] (secret).
 *           the rest:    as frost_reshare_public_key_package.
 */
int frost_reshare_finish(unsigned char *new_signing_share, unsigned char *new_verifying_shares,
                         uint32_t *culprits, size_t *n_culprits, uint32_t identifier,
                         const unsigned char *group_public_key, size_t min_signers,
                         const uint32_t *signers, const unsigned char *signer_verifying_shares,
                         size_t n_signers, const uint32_t *new_identifiers, size_t new_n,
                         const unsigned char *commitments, const unsigned char *shares,
                         size_t new_min_signers);

/* ---- repair: helpers restore a lost member's share (RTS) ------------------
 * Helpers H (|H| >= threshold, the lost member r not among them): helper i
 * splits zeta_i s_i (zeta_i its Lagrange coefficient at x = r) into |H|
 * random deltas, one per helper, and broadcasts their commitments [delta]B;
 * helper j sums the deltas it received into sigma_j; r sums the sigmas.
 * Every step is checked against the commitments, so culprits are named. */

/** Repair, part 1 (helper): deltas summing to zeta_i * s_i.
 *
 *  Returns: FROST_OK; FROST_ERR_PARAMS (n_helpers < min_signers);
 *           identifier errors (lost_identifier among helpers is
 *           FROST_ERR_DUPLICATE_IDENTIFIER); FROST_ERR_UNKNOWN_IDENTIFIER
 *           (identifier not a helper); FROST_ERR_BAD_SCALAR.
 *  Out:     deltas:            n_helpers x 32 bytes, for helpers[k] at k (secret;
 *                              ours at our index).
 *           delta_commitments: n_helpers x 32 bytes, [deltas[k]]B (broadcast).
 *  In:      identifier, signing_share (secret), min_signers: our key package.
 *           helpers:           n_helpers identifiers, increasing, with ours.
 *           lost_identifier:   the member whose share is restored.
 */
int frost_repair_part1(unsigned char *deltas, unsigned char *delta_commitments,
                       uint32_t identifier, const unsigned char *signing_share,
                       size_t min_signers, const uint32_t *helpers, size_t n_helpers,
                       uint32_t lost_identifier);

/** Repair, part 2 (helper): check every helper's commitments and the delta
 *  it sent us, and sum the deltas into sigma (for the lost member).
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE with every helper whose
 *           commitments are malformed or do not sum to [zeta_k]Y_k, or whose
 *           delta does not match its commitment, in culprits;
 *           FROST_ERR_BAD_POINT (a verifying share); FROST_ERR_PARAMS;
 *           identifier errors; FROST_ERR_UNKNOWN_IDENTIFIER.
 *  Out:     sigma:       32 bytes (secret).
 *           culprits:    capacity n_helpers; failing helpers, increasing.
 *           n_culprits:  number written.
 *  In:      identifier:  own identifier, one of helpers.
 *           min_signers: the group's threshold.
 *           helpers, n_helpers, lost_identifier: as for part 1.
 *           helper_verifying_shares: n_helpers x 32 bytes, Y of helpers[k] at k.
 *           delta_commitments: n_helpers x n_helpers x 32 bytes: row k is
 *                        helpers[k]'s delta_commitments.
 *           deltas:      n_helpers x 32 bytes, the delta helpers[k] sent us (secret).
 */
int frost_repair_part2(unsigned char *sigma, uint32_t *culprits, size_t *n_culprits,
                       uint32_t identifier, size_t min_signers, const uint32_t *helpers,
                       const unsigned char *helper_verifying_shares, size_t n_helpers,
                       uint32_t lost_identifier, const unsigned char *delta_commitments,
                       const unsigned char *deltas);

/** Repair, part 3 (lost member): check the commitments and every sigma
 *  against them, sum the sigmas and check the result against our
 *  verifying share in the group's record.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SHARE with every helper whose
 *           commitments are malformed or inconsistent, or whose sigma does
 *           not match the sum of its column, in culprits;
 *           FROST_ERR_MISMATCH if the restored share does not match
 *           verifying_share; FROST_ERR_BAD_POINT; FROST_ERR_PARAMS;
 *           identifier errors.
 *  Out:     signing_share: 32 bytes (secret).
 *           culprits:      capacity n_helpers; failing helpers, increasing.
 *           n_culprits:    number written.
 *  In:      lost_identifier: own identifier.
 *           verifying_share: 32 bytes, our verifying share in the record.
 *           min_signers, helpers, helper_verifying_shares, n_helpers,
 *           delta_commitments: as for part 2.
 *           sigmas:        n_helpers x 32 bytes, from helpers[k] at k (secret).
 */
int frost_repair_part3(unsigned char *signing_share, uint32_t *culprits, size_t *n_culprits,
                       uint32_t lost_identifier, const unsigned char *verifying_share,
                       size_t min_signers, const uint32_t *helpers,
                       const unsigned char *helper_verifying_shares, size_t n_helpers,
                       const unsigned char *delta_commitments, const unsigned char *sigmas);

#ifdef __cplusplus
}
#endif

#endif /* FROST_H */
