/* frost.h - FROST(Ed25519, SHA-512) threshold Schnorr signatures (RFC 9591)
 * over libsodium's Ed25519 group and scalar API.
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
 *    (verification, aggregation) may branch on public data.
 * Spec of encodings, DKG proof and validation rules: spec/frost.md.
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
    FROST_ERR_INTERNAL = 15                /* a libsodium operation failed unexpectedly */
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

/** Verify every signature share, then aggregate them (RFC 9591 5.3) and
 *  verify the result.
 *
 *  Returns: FROST_OK; FROST_ERR_INVALID_SIGNATURE_SHARE with every failing
 *           signer in culprits; FROST_ERR_INVALID_SIGNATURE if all shares
 *           pass but the signature does not (verifying shares inconsistent
 *           with the group key); FROST_ERR_PARAMS (n < min_signers);
 *           identifier errors; FROST_ERR_BAD_POINT; FROST_ERR_NO_MEMORY.
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

#ifdef __cplusplus
}
#endif

#endif /* FROST_H */
