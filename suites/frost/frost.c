/* frost.c - FROST(Ed25519, SHA-512), RFC 9591, over libsodium.
 *
 * Reading guide: section numbers refer to RFC 9591.  Secret values are the
 * signing shares, polynomial coefficients, nonces and the values derived from
 * them; they only ever meet constant-time libsodium scalar operations,
 * crypto_scalarmult_ed25519_base_noclamp and SHA-512, and every stack buffer
 * holding one is wiped on every return path (the `done:` labels).  Branches on
 * secrets are limited to "is this scalar canonical / zero", which only decide
 * whether to fail.
 */
#include "frost.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#ifdef FROST_CTGRIND
/* Constant-time validation build (tests/c/test_frost.c, see spec/frost.md):
 * the test marks secrets as undefined memory and valgrind reports any branch
 * or memory index that depends on them. */
#include <valgrind/memcheck.h>
#endif

#define SB 32 /* scalar bytes */
#define PB 32 /* point bytes */
#define PREFIX_BYTES 160 /* PK || H4(msg) || H5(commitment list) */

static const char CONTEXT_STRING[] = "FROST-ED25519-SHA512-v1";

/* The identity element (0, 1), RFC 8032 encoding. */
static const unsigned char IDENTITY[PB] = {1};

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const unsigned char ORDER_L[SB] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

#define TRY(expr)                  \
    do {                           \
        rc = (expr);               \
        if (rc != FROST_OK) {      \
            goto done;             \
        }                          \
    } while (0)

#define CHECK(cond, err)           \
    do {                           \
        if (!(cond)) {             \
            rc = (err);            \
            goto done;             \
        }                          \
    } while (0)

/* Mark a value computed from secrets as public: either the protocol
 * publishes it (commitments, proofs, signature shares) or it only decides
 * whether to fail (a secret scalar is >= L or zero).  A no-op except in the
 * FROST_CTGRIND build; these are the only places where the library lets a
 * secret-derived value reach a branch. */
static void declassify(const void *p, size_t n) {
#ifdef FROST_CTGRIND
    (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
    (void)p;
    (void)n;
#endif
}

static int public_flag(int v) {
    declassify(&v, sizeof v);
    return v;
}

const char *frost_strerror(int err) {
    switch (err) {
    case FROST_OK: return "ok";
    case FROST_ERR_INIT: return "libsodium could not be initialised";
    case FROST_ERR_PARAMS: return "parameter out of range";
    case FROST_ERR_ZERO_IDENTIFIER: return "identifier is zero";
    case FROST_ERR_DUPLICATE_IDENTIFIER: return "duplicate identifier";
    case FROST_ERR_UNSORTED_IDENTIFIERS: return "identifiers not in increasing order";
    case FROST_ERR_UNKNOWN_IDENTIFIER: return "identifier not in the list";
    case FROST_ERR_BAD_SCALAR: return "invalid scalar";
    case FROST_ERR_BAD_POINT: return "invalid group element";
    case FROST_ERR_BAD_NONCES: return "nonces already used or not matching the commitment";
    case FROST_ERR_INVALID_SHARE: return "invalid secret share";
    case FROST_ERR_INVALID_PROOF: return "invalid proof of knowledge";
    case FROST_ERR_INVALID_SIGNATURE_SHARE: return "invalid signature share";
    case FROST_ERR_INVALID_SIGNATURE: return "invalid signature";
    case FROST_ERR_NO_MEMORY: return "out of memory";
    case FROST_ERR_INTERNAL: return "internal error";
    default: return "unknown error";
    }
}

static int ensure_init(void) {
    return sodium_init() < 0 ? FROST_ERR_INIT : FROST_OK;
}

/* ---- scalars ------------------------------------------------------------ */

/* 1 iff s < L.  Constant time: computes the borrow of s - L. */
static int scalar_is_canonical(const unsigned char *s) {
    unsigned int borrow = 0;
    size_t i;
    for (i = 0; i < SB; i++) {
        unsigned int d = (unsigned int)s[i] - (unsigned int)ORDER_L[i] - borrow;
        borrow = (d >> 8) & 1U;
    }
    return (int)borrow;
}

/* 1 iff s is canonical and not zero.  Constant time. */
static int scalar_is_canonical_nonzero(const unsigned char *s) {
    return scalar_is_canonical(s) & (sodium_is_zero(s, SB) ^ 1);
}

/* The same checks for a secret scalar, whose outcome only decides failure. */
static int secret_is_canonical(const unsigned char *s) {
    return public_flag(scalar_is_canonical(s));
}

static int secret_is_canonical_nonzero(const unsigned char *s) {
    return public_flag(scalar_is_canonical_nonzero(s));
}

/* SerializeScalar(identifier): 32-byte little-endian. */
static void scalar_from_u32(unsigned char *out, uint32_t x) {
    memset(out, 0, SB);
    out[0] = (unsigned char)(x & 0xff);
    out[1] = (unsigned char)((x >> 8) & 0xff);
    out[2] = (unsigned char)((x >> 16) & 0xff);
    out[3] = (unsigned char)((x >> 24) & 0xff);
}

int frost_validate_scalar(const unsigned char *s) {
    if (s == NULL) {
        return FROST_ERR_PARAMS;
    }
    return secret_is_canonical(s) ? FROST_OK : FROST_ERR_BAD_SCALAR;
}

/* ---- points ------------------------------------------------------------- */

static int is_valid_point(const unsigned char *p) {
    return crypto_core_ed25519_is_valid_point(p) == 1;
}

static int is_identity(const unsigned char *p) {
    return memcmp(p, IDENTITY, PB) == 0; /* public data */
}

int frost_validate_point(const unsigned char *p) {
    int rc = ensure_init();
    if (rc != FROST_OK) {
        return rc;
    }
    if (p == NULL) {
        return FROST_ERR_PARAMS;
    }
    return is_valid_point(p) ? FROST_OK : FROST_ERR_BAD_POINT;
}

static int point_add(unsigned char *r, const unsigned char *p, const unsigned char *q) {
    return crypto_core_ed25519_add(r, p, q) == 0 ? FROST_OK : FROST_ERR_INTERNAL;
}

static int point_sub(unsigned char *r, const unsigned char *p, const unsigned char *q) {
    return crypto_core_ed25519_sub(r, p, q) == 0 ? FROST_OK : FROST_ERR_INTERNAL;
}

/* [s]B for a secret s; libsodium refuses s == 0, which we report.  The
 * result is public wherever the protocol computes one. */
static int base_mul_secret(unsigned char *r, const unsigned char *s) {
    int rc;
#ifdef FROST_CTGRIND
    VALGRIND_DISABLE_ERROR_REPORTING; /* libsodium's own "result is identity" check */
#endif
    rc = crypto_scalarmult_ed25519_base_noclamp(r, s);
#ifdef FROST_CTGRIND
    VALGRIND_ENABLE_ERROR_REPORTING;
#endif
    declassify(r, PB);
    return public_flag(rc) == 0 ? FROST_OK : FROST_ERR_BAD_SCALAR;
}

/* [s]B for a public s; s == 0 gives the identity. */
static int base_mul_public(unsigned char *r, const unsigned char *s) {
    if (sodium_is_zero(s, SB)) {
        memcpy(r, IDENTITY, PB);
        return FROST_OK;
    }
    return crypto_scalarmult_ed25519_base_noclamp(r, s) == 0 ? FROST_OK : FROST_ERR_INTERNAL;
}

/* [s]P for a public s and a point P that must be valid (libsodium checks it
 * inside the multiplication).  s == 0 gives the identity. */
static int point_mul(unsigned char *r, const unsigned char *s, const unsigned char *p) {
    if (sodium_is_zero(s, SB)) {
        if (!is_valid_point(p)) {
            return FROST_ERR_BAD_POINT;
        }
        memcpy(r, IDENTITY, PB);
        return FROST_OK;
    }
    return crypto_scalarmult_ed25519_noclamp(r, s, p) == 0 ? FROST_OK : FROST_ERR_BAD_POINT;
}

/* ---- hashing (6.1) ------------------------------------------------------ */

static int h_update(crypto_hash_sha512_state *st, const unsigned char *m, size_t len) {
    if (len == 0) {
        return FROST_OK;
    }
    return crypto_hash_sha512_update(st, m, (unsigned long long)len) == 0 ? FROST_OK
                                                                          : FROST_ERR_INTERNAL;
}

/* Start H(contextString || tag || ...). */
static int h_init(crypto_hash_sha512_state *st, const char *tag) {
    if (crypto_hash_sha512_init(st) != 0) {
        return FROST_ERR_INTERNAL;
    }
    if (h_update(st, (const unsigned char *)CONTEXT_STRING, sizeof CONTEXT_STRING - 1) != FROST_OK) {
        return FROST_ERR_INTERNAL;
    }
    return h_update(st, (const unsigned char *)tag, strlen(tag));
}

/* Finish into a 64-byte digest and wipe the state. */
static int h_final(crypto_hash_sha512_state *st, unsigned char *digest) {
    int rc = crypto_hash_sha512_final(st, digest) == 0 ? FROST_OK : FROST_ERR_INTERNAL;
    sodium_memzero(st, sizeof *st);
    return rc;
}

/* Finish, interpret the digest as a little-endian integer, reduce mod L. */
static int h_final_scalar(crypto_hash_sha512_state *st, unsigned char *out) {
    unsigned char digest[64];
    int rc = h_final(st, digest);
    crypto_core_ed25519_scalar_reduce(out, digest);
    sodium_memzero(digest, sizeof digest);
    return rc;
}

/* nonce_generate (4.1): H3(random_bytes || SerializeScalar(secret)).
 * random == NULL draws 32 bytes from the system RNG. */
static int nonce_generate(unsigned char *out, const unsigned char *secret,
                          const unsigned char *random) {
    unsigned char rnd[32];
    crypto_hash_sha512_state st;
    int rc;

    if (random != NULL) {
        memcpy(rnd, random, sizeof rnd);
    } else {
        randombytes_buf(rnd, sizeof rnd);
    }
    TRY(h_init(&st, "nonce"));
    TRY(h_update(&st, rnd, sizeof rnd));
    TRY(h_update(&st, secret, SB));
    TRY(h_final_scalar(&st, out));
done:
    sodium_memzero(rnd, sizeof rnd);
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* compute_challenge (4.6): H2(R || PK || msg), H2 = plain SHA-512 mod L. */
static int challenge(unsigned char *out, const unsigned char *R, const unsigned char *pk,
                     const unsigned char *msg, size_t msg_len) {
    crypto_hash_sha512_state st;
    int rc;
    CHECK(crypto_hash_sha512_init(&st) == 0, FROST_ERR_INTERNAL);
    TRY(h_update(&st, R, PB));
    TRY(h_update(&st, pk, PB));
    TRY(h_update(&st, msg, msg_len));
    TRY(h_final_scalar(&st, out));
done:
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* ---- identifier lists --------------------------------------------------- */

static int check_identifiers(const uint32_t *ids, size_t n) {
    size_t k;
    for (k = 0; k < n; k++) {
        if (ids[k] == 0) {
            return FROST_ERR_ZERO_IDENTIFIER;
        }
        if (k > 0 && ids[k] == ids[k - 1]) {
            return FROST_ERR_DUPLICATE_IDENTIFIER;
        }
        if (k > 0 && ids[k] < ids[k - 1]) {
            return FROST_ERR_UNSORTED_IDENTIFIERS;
        }
    }
    return FROST_OK;
}

static int check_commitment_list(const frost_commitment *c, size_t n) {
    size_t k;
    if (n < 1 || n > FROST_MAX_PARTICIPANTS) {
        return FROST_ERR_PARAMS;
    }
    for (k = 0; k < n; k++) {
        if (c[k].identifier == 0) {
            return FROST_ERR_ZERO_IDENTIFIER;
        }
        if (k > 0 && c[k].identifier == c[k - 1].identifier) {
            return FROST_ERR_DUPLICATE_IDENTIFIER;
        }
        if (k > 0 && c[k].identifier < c[k - 1].identifier) {
            return FROST_ERR_UNSORTED_IDENTIFIERS;
        }
    }
    return FROST_OK;
}

/* Index of id in a checked commitment list, or n. */
static size_t commitment_index(const frost_commitment *c, size_t n, uint32_t id) {
    size_t k;
    for (k = 0; k < n; k++) {
        if (c[k].identifier == id) {
            return k;
        }
    }
    return n;
}

/* ---- polynomials and VSS (App. C) --------------------------------------- */

/* f(x) = sum_j coeffs[j] x^j by Horner's rule; coefficients are secret. */
static void poly_eval(unsigned char *out, const unsigned char *coeffs, size_t t, uint32_t x) {
    unsigned char xs[SB], acc[SB], tmp[SB];
    size_t j;

    scalar_from_u32(xs, x);
    memcpy(acc, coeffs + SB * (t - 1), SB);
    for (j = t - 1; j > 0; j--) {
        crypto_core_ed25519_scalar_mul(tmp, acc, xs);
        crypto_core_ed25519_scalar_add(acc, tmp, coeffs + SB * (j - 1));
    }
    memcpy(out, acc, SB);
    sodium_memzero(acc, sizeof acc);
    sodium_memzero(tmp, sizeof tmp);
}

/* sum_j [x^j]C_j over a public commitment.  Every C_j must be valid, except
 * that with allow_identity an identity C_j (possible in a sum of
 * commitments) contributes nothing. */
static int vss_eval(unsigned char *out, const unsigned char *commitment, size_t t, uint32_t x,
                    int allow_identity) {
    unsigned char xs[SB], pw[SB], next[SB], term[PB];
    size_t j;
    int rc = FROST_OK;

    scalar_from_u32(xs, x);
    memcpy(pw, xs, SB);
    if (allow_identity && is_identity(commitment)) {
        memcpy(out, IDENTITY, PB);
    } else {
        CHECK(is_valid_point(commitment), FROST_ERR_BAD_POINT);
        memcpy(out, commitment, PB);
    }
    for (j = 1; j < t; j++) {
        const unsigned char *cj = commitment + PB * j;
        if (!(allow_identity && is_identity(cj))) {
            TRY(point_mul(term, pw, cj));
            TRY(point_add(out, out, term));
        }
        crypto_core_ed25519_scalar_mul(next, pw, xs);
        memcpy(pw, next, SB);
    }
done:
    return rc;
}

/* vss_verify: [share]B == sum_j [id^j]C_j.  Commitment first, so that a
 * malformed commitment is FROST_ERR_BAD_POINT rather than a bad share. */
static int vss_verify(uint32_t id, const unsigned char *share, const unsigned char *commitment,
                      size_t t) {
    unsigned char expect[PB], got[PB];
    int rc;

    TRY(vss_eval(expect, commitment, t, id, 0));
    CHECK(secret_is_canonical_nonzero(share), FROST_ERR_INVALID_SHARE);
    TRY(base_mul_secret(got, share));
    CHECK(sodium_memcmp(got, expect, PB) == 0, FROST_ERR_INVALID_SHARE);
done:
    sodium_memzero(got, sizeof got);
    return rc;
}

int frost_vss_verify(uint32_t identifier, const unsigned char *share,
                     const unsigned char *vss_commitment, size_t min_signers) {
    int rc;
    TRY(ensure_init());
    CHECK(share != NULL && vss_commitment != NULL, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && min_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    rc = vss_verify(identifier, share, vss_commitment, min_signers);
done:
    return rc;
}

int frost_dealer_keygen(unsigned char *shares, unsigned char *vss_commitment,
                        unsigned char *group_public_key,
                        const uint32_t *identifiers, size_t max_signers, size_t min_signers,
                        const unsigned char *secret, const unsigned char *coefficients) {
    unsigned char *coeffs = NULL; /* secret polynomial a_0..a_{t-1} */
    size_t j, k, n_out = 0, t_out = 0;
    int rc;

    TRY(ensure_init());
    CHECK(shares != NULL && vss_commitment != NULL && group_public_key != NULL &&
              identifiers != NULL, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && min_signers <= max_signers &&
              max_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    n_out = max_signers;
    t_out = min_signers;
    TRY(check_identifiers(identifiers, max_signers));

    coeffs = malloc(SB * min_signers);
    CHECK(coeffs != NULL, FROST_ERR_NO_MEMORY);
    for (j = 0; j < min_signers; j++) {
        const unsigned char *given = (j == 0) ? secret
                                   : (coefficients != NULL ? coefficients + SB * (j - 1) : NULL);
        if (given != NULL) {
            CHECK(secret_is_canonical_nonzero(given), FROST_ERR_BAD_SCALAR);
            memcpy(coeffs + SB * j, given, SB);
        } else {
            crypto_core_ed25519_scalar_random(coeffs + SB * j);
        }
        TRY(base_mul_secret(vss_commitment + PB * j, coeffs + SB * j));
    }
    for (k = 0; k < max_signers; k++) {
        poly_eval(shares + SB * k, coeffs, min_signers, identifiers[k]);
    }
    memcpy(group_public_key, vss_commitment, PB);
done:
    if (coeffs != NULL) {
        sodium_memzero(coeffs, SB * t_out);
        free(coeffs);
    }
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(shares, SB * n_out);
        sodium_memzero(vss_commitment, PB * t_out);
        sodium_memzero(group_public_key, PB);
    }
    return rc;
}

int frost_public_key_package(unsigned char *group_public_key, unsigned char *verifying_shares,
                             const uint32_t *identifiers, size_t n_identifiers,
                             const unsigned char *commitments, size_t n_commitments,
                             size_t min_signers) {
    unsigned char *sums = NULL; /* C_j summed over all commitments */
    size_t j, k, n_out = 0;
    int rc;

    TRY(ensure_init());
    CHECK(group_public_key != NULL && verifying_shares != NULL && identifiers != NULL &&
              commitments != NULL, FROST_ERR_PARAMS);
    CHECK(n_identifiers >= 1 && n_identifiers <= FROST_MAX_PARTICIPANTS &&
              n_commitments >= 1 && n_commitments <= FROST_MAX_PARTICIPANTS &&
              min_signers >= 2 && min_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    n_out = n_identifiers;
    TRY(check_identifiers(identifiers, n_identifiers));

    sums = malloc(PB * min_signers);
    CHECK(sums != NULL, FROST_ERR_NO_MEMORY);
    for (j = 0; j < min_signers; j++) {
        memcpy(sums + PB * j, IDENTITY, PB);
        for (k = 0; k < n_commitments; k++) {
            const unsigned char *c = commitments + PB * (min_signers * k + j);
            CHECK(is_valid_point(c), FROST_ERR_BAD_POINT);
            TRY(point_add(sums + PB * j, sums + PB * j, c));
        }
    }
    CHECK(is_valid_point(sums), FROST_ERR_BAD_POINT); /* the group key */
    memcpy(group_public_key, sums, PB);
    for (k = 0; k < n_identifiers; k++) {
        TRY(vss_eval(verifying_shares + PB * k, sums, min_signers, identifiers[k], 1));
        CHECK(!is_identity(verifying_shares + PB * k), FROST_ERR_BAD_POINT);
    }
done:
    free(sums);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(group_public_key, PB);
        sodium_memzero(verifying_shares, PB * n_out);
    }
    return rc;
}

/* ---- DKG ----------------------------------------------------------------- */

/* c = H("FROST-ED25519-SHA512-v1" || "dkg-pok" || LE64(len(ctx)) || ctx ||
 *       SerializeScalar(id) || C_0 || R) mod L   (spec/frost.md) */
static int pok_challenge(unsigned char *out, const unsigned char *ctx, size_t ctx_len,
                         uint32_t id, const unsigned char *c0, const unsigned char *R) {
    crypto_hash_sha512_state st;
    unsigned char len_le[8], ids[SB];
    uint64_t len = (uint64_t)ctx_len;
    size_t i;
    int rc;

    for (i = 0; i < 8; i++) {
        len_le[i] = (unsigned char)((len >> (8 * i)) & 0xff);
    }
    scalar_from_u32(ids, id);
    TRY(h_init(&st, "dkg-pok"));
    TRY(h_update(&st, len_le, sizeof len_le));
    TRY(h_update(&st, ctx, ctx_len));
    TRY(h_update(&st, ids, SB));
    TRY(h_update(&st, c0, PB));
    TRY(h_update(&st, R, PB));
    TRY(h_final_scalar(&st, out));
done:
    sodium_memzero(&st, sizeof st);
    return rc;
}

static int verify_proof(uint32_t id, const unsigned char *commitment, size_t t,
                        const unsigned char *proof, const unsigned char *ctx, size_t ctx_len) {
    const unsigned char *R = proof, *mu = proof + PB;
    unsigned char c[SB], lhs[PB], rhs[PB];
    size_t j;
    int rc;

    for (j = 0; j < t; j++) {
        CHECK(is_valid_point(commitment + PB * j), FROST_ERR_BAD_POINT);
    }
    CHECK(is_valid_point(R) && scalar_is_canonical(mu), FROST_ERR_INVALID_PROOF);
    TRY(pok_challenge(c, ctx, ctx_len, id, commitment, R));
    /* [mu]B == R + [c]C_0 */
    TRY(base_mul_public(lhs, mu));
    TRY(point_mul(rhs, c, commitment));
    TRY(point_add(rhs, rhs, R));
    CHECK(memcmp(lhs, rhs, PB) == 0, FROST_ERR_INVALID_PROOF);
done:
    return rc;
}

int frost_dkg_part1(unsigned char *coefficients, unsigned char *commitment, unsigned char *proof,
                    uint32_t identifier, size_t max_signers, size_t min_signers,
                    const unsigned char *context, size_t context_len) {
    unsigned char k[SB], c[SB], tmp[SB];
    size_t j, t_out = 0;
    int rc;

    sodium_memzero(k, sizeof k);
    sodium_memzero(tmp, sizeof tmp);
    TRY(ensure_init());
    CHECK(coefficients != NULL && commitment != NULL && proof != NULL, FROST_ERR_PARAMS);
    CHECK(context != NULL || context_len == 0, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && min_signers <= max_signers &&
              max_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    t_out = min_signers;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);

    for (j = 0; j < min_signers; j++) {
        crypto_core_ed25519_scalar_random(coefficients + SB * j);
        TRY(base_mul_secret(commitment + PB * j, coefficients + SB * j));
    }
    /* Schnorr proof of knowledge of a_0: R = [k]B, mu = k + a_0 * c */
    TRY(nonce_generate(k, coefficients, NULL));
    TRY(base_mul_secret(proof, k));
    TRY(pok_challenge(c, context, context_len, identifier, commitment, proof));
    crypto_core_ed25519_scalar_mul(tmp, coefficients, c);
    crypto_core_ed25519_scalar_add(proof + PB, k, tmp);
    declassify(proof + PB, SB); /* the published proof */
done:
    sodium_memzero(k, sizeof k);
    sodium_memzero(tmp, sizeof tmp);
    if (rc != FROST_OK && t_out != 0) {
        sodium_memzero(coefficients, SB * t_out);
        sodium_memzero(commitment, PB * t_out);
        sodium_memzero(proof, FROST_PROOF_BYTES);
    }
    return rc;
}

int frost_dkg_verify_proof(uint32_t identifier, const unsigned char *commitment, size_t min_signers,
                           const unsigned char *proof,
                           const unsigned char *context, size_t context_len) {
    int rc;
    TRY(ensure_init());
    CHECK(commitment != NULL && proof != NULL, FROST_ERR_PARAMS);
    CHECK(context != NULL || context_len == 0, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && min_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    rc = verify_proof(identifier, commitment, min_signers, proof, context, context_len);
done:
    return rc;
}

int frost_dkg_part2(unsigned char *shares, unsigned char *own_share,
                    uint32_t *culprits, size_t *n_culprits,
                    uint32_t identifier, const unsigned char *coefficients, size_t min_signers,
                    const uint32_t *peer_identifiers, const unsigned char *peer_commitments,
                    const unsigned char *peer_proofs, size_t n_peers,
                    const unsigned char *context, size_t context_len) {
    size_t j, k, n_out = 0;
    int ok = 1, rc;

    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(shares != NULL && own_share != NULL && culprits != NULL && n_culprits != NULL &&
              coefficients != NULL && peer_identifiers != NULL && peer_commitments != NULL &&
              peer_proofs != NULL, FROST_ERR_PARAMS);
    CHECK(context != NULL || context_len == 0, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && n_peers + 1 >= min_signers &&
              n_peers < FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    n_out = n_peers;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    TRY(check_identifiers(peer_identifiers, n_peers));
    for (k = 0; k < n_peers; k++) {
        CHECK(peer_identifiers[k] != identifier, FROST_ERR_DUPLICATE_IDENTIFIER);
    }
    for (j = 0; j < min_signers; j++) {
        ok &= secret_is_canonical_nonzero(coefficients + SB * j);
    }
    CHECK(ok, FROST_ERR_BAD_SCALAR);

    for (k = 0; k < n_peers; k++) {
        int r = verify_proof(peer_identifiers[k], peer_commitments + PB * min_signers * k,
                             min_signers, peer_proofs + FROST_PROOF_BYTES * k,
                             context, context_len);
        if (r == FROST_ERR_INVALID_PROOF || r == FROST_ERR_BAD_POINT) {
            culprits[(*n_culprits)++] = peer_identifiers[k];
        } else {
            TRY(r);
        }
    }
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_PROOF);

    for (k = 0; k < n_peers; k++) {
        poly_eval(shares + SB * k, coefficients, min_signers, peer_identifiers[k]);
    }
    poly_eval(own_share, coefficients, min_signers, identifier);
done:
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(shares, SB * n_out);
        sodium_memzero(own_share, SB);
    }
    return rc;
}

int frost_dkg_part3(unsigned char *signing_share, unsigned char *group_public_key,
                    unsigned char *verifying_shares, uint32_t *culprits, size_t *n_culprits,
                    uint32_t identifier, const uint32_t *identifiers,
                    const unsigned char *commitments, const unsigned char *shares,
                    size_t n, size_t min_signers) {
    unsigned char s[SB], tmp[SB], mine[PB];
    size_t k, own, n_out = 0;
    int rc;

    sodium_memzero(s, sizeof s);
    sodium_memzero(tmp, sizeof tmp);
    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(signing_share != NULL && group_public_key != NULL && verifying_shares != NULL &&
              culprits != NULL && n_culprits != NULL && identifiers != NULL &&
              commitments != NULL && shares != NULL, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && min_signers <= n && n <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    n_out = n;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    TRY(check_identifiers(identifiers, n));
    for (own = 0; own < n && identifiers[own] != identifier; own++) {
    }
    CHECK(own < n, FROST_ERR_UNKNOWN_IDENTIFIER);

    /* each sender's share against that sender's commitment */
    for (k = 0; k < n; k++) {
        int r = vss_verify(identifier, shares + SB * k, commitments + PB * min_signers * k,
                           min_signers);
        if (r == FROST_ERR_INVALID_SHARE || r == FROST_ERR_BAD_POINT) {
            culprits[(*n_culprits)++] = identifiers[k];
        } else {
            TRY(r);
        }
    }
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);

    for (k = 0; k < n; k++) {
        crypto_core_ed25519_scalar_add(tmp, s, shares + SB * k);
        memcpy(s, tmp, SB);
    }
    TRY(frost_public_key_package(group_public_key, verifying_shares, identifiers, n,
                                 commitments, n, min_signers));
    /* consistency: [s]B must be our own verifying share */
    TRY(base_mul_secret(mine, s));
    CHECK(memcmp(mine, verifying_shares + PB * own, PB) == 0, FROST_ERR_INTERNAL);
    memcpy(signing_share, s, SB);
done:
    sodium_memzero(s, sizeof s);
    sodium_memzero(tmp, sizeof tmp);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(signing_share, SB);
        sodium_memzero(group_public_key, PB);
        sodium_memzero(verifying_shares, PB * n_out);
    }
    return rc;
}

/* ---- signing: round one (5.1) ------------------------------------------- */

int frost_commit(frost_nonces *nonces, frost_commitment *commitment, uint32_t identifier,
                 const unsigned char *signing_share,
                 const unsigned char *hiding_random, const unsigned char *binding_random) {
    frost_nonces n;
    int rc;

    sodium_memzero(&n, sizeof n);
    TRY(ensure_init());
    CHECK(nonces != NULL && commitment != NULL && signing_share != NULL, FROST_ERR_PARAMS);
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    CHECK(secret_is_canonical(signing_share), FROST_ERR_BAD_SCALAR);
    TRY(nonce_generate(n.hiding, signing_share, hiding_random));
    TRY(nonce_generate(n.binding, signing_share, binding_random));
    TRY(base_mul_secret(n.hiding_commitment, n.hiding));
    TRY(base_mul_secret(n.binding_commitment, n.binding));
    memcpy(nonces, &n, sizeof n);
    commitment->identifier = identifier;
    memcpy(commitment->hiding, n.hiding_commitment, PB);
    memcpy(commitment->binding, n.binding_commitment, PB);
done:
    sodium_memzero(&n, sizeof n);
    if (rc != FROST_OK && nonces != NULL) {
        sodium_memzero(nonces, sizeof *nonces);
    }
    return rc;
}

/* ---- binding factors and group commitment (4.3-4.5) --------------------- */

/* PK || H4(msg) || H5(encode_group_commitment_list(commitments)) */
static int binding_prefix(unsigned char *prefix, const unsigned char *pk,
                          const frost_commitment *c, size_t n,
                          const unsigned char *msg, size_t msg_len) {
    crypto_hash_sha512_state st;
    unsigned char ids[SB];
    size_t k;
    int rc;

    memcpy(prefix, pk, PB);
    TRY(h_init(&st, "msg"));
    TRY(h_update(&st, msg, msg_len));
    TRY(h_final(&st, prefix + PB));
    TRY(h_init(&st, "com"));
    for (k = 0; k < n; k++) {
        scalar_from_u32(ids, c[k].identifier);
        TRY(h_update(&st, ids, SB));
        TRY(h_update(&st, c[k].hiding, PB));
        TRY(h_update(&st, c[k].binding, PB));
    }
    TRY(h_final(&st, prefix + PB + 64));
done:
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* rho = H1(prefix || SerializeScalar(id)); input (192 bytes) if not NULL */
static int binding_factor(unsigned char *rho, unsigned char *input, const unsigned char *prefix,
                          uint32_t id) {
    crypto_hash_sha512_state st;
    unsigned char ids[SB];
    int rc;

    scalar_from_u32(ids, id);
    if (input != NULL) {
        memcpy(input, prefix, PREFIX_BYTES);
        memcpy(input + PREFIX_BYTES, ids, SB);
    }
    TRY(h_init(&st, "rho"));
    TRY(h_update(&st, prefix, PREFIX_BYTES));
    TRY(h_update(&st, ids, SB));
    TRY(h_final_scalar(&st, rho));
done:
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* R = sum_k D_k + [rho_k]E_k, validating every D_k and E_k.  Optionally
 * stores every commitment share D_k + [rho_k]E_k (comm_shares, n x 32), and
 * the binding factor and commitment share of index `want` (if want < n). */
static int group_commitment(unsigned char *R, unsigned char *comm_shares,
                            size_t want, unsigned char *want_rho, unsigned char *want_comm,
                            const unsigned char *prefix, const frost_commitment *c, size_t n) {
    unsigned char rho[SB], term[PB];
    size_t k;
    int rc = FROST_OK;

    memcpy(R, IDENTITY, PB);
    for (k = 0; k < n; k++) {
        TRY(binding_factor(rho, NULL, prefix, c[k].identifier));
        CHECK(is_valid_point(c[k].hiding), FROST_ERR_BAD_POINT);
        TRY(point_mul(term, rho, c[k].binding)); /* validates E */
        TRY(point_add(term, c[k].hiding, term));
        TRY(point_add(R, R, term));
        if (comm_shares != NULL) {
            memcpy(comm_shares + PB * k, term, PB);
        }
        if (k == want) {
            memcpy(want_rho, rho, SB);
            memcpy(want_comm, term, PB);
        }
    }
    /* SerializeElement(identity) fails in RFC 9591, so R must not be it */
    CHECK(!is_identity(R), FROST_ERR_BAD_POINT);
done:
    return rc;
}

int frost_binding_factors(unsigned char *binding_factors, unsigned char *binding_inputs,
                          const unsigned char *group_public_key,
                          const frost_commitment *commitments, size_t n,
                          const unsigned char *msg, size_t msg_len) {
    unsigned char prefix[PREFIX_BYTES];
    size_t k;
    int rc;

    TRY(ensure_init());
    CHECK(binding_factors != NULL && group_public_key != NULL && commitments != NULL,
          FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    TRY(check_commitment_list(commitments, n));
    CHECK(is_valid_point(group_public_key), FROST_ERR_BAD_POINT);
    for (k = 0; k < n; k++) {
        CHECK(is_valid_point(commitments[k].hiding) && is_valid_point(commitments[k].binding),
              FROST_ERR_BAD_POINT);
    }
    TRY(binding_prefix(prefix, group_public_key, commitments, n, msg, msg_len));
    for (k = 0; k < n; k++) {
        TRY(binding_factor(binding_factors + SB * k,
                           binding_inputs != NULL ? binding_inputs + FROST_BINDING_INPUT_BYTES * k
                                                  : NULL,
                           prefix, commitments[k].identifier));
    }
done:
    return rc;
}

/* ---- Lagrange coefficients (4.2) ----------------------------------------- */

/* lambda_i = num / den with num = prod_{j != i} x_j and den = prod_{j != i} (x_j - x_i)
 * over the list's identifiers (public values). */
static void lagrange_parts(unsigned char *num, unsigned char *den, const frost_commitment *c,
                           size_t n, size_t i) {
    unsigned char xi[SB], xj[SB], d[SB], t[SB];
    size_t j;

    scalar_from_u32(xi, c[i].identifier);
    scalar_from_u32(num, 1);
    scalar_from_u32(den, 1);
    for (j = 0; j < n; j++) {
        if (j == i) {
            continue;
        }
        scalar_from_u32(xj, c[j].identifier);
        crypto_core_ed25519_scalar_mul(t, num, xj);
        memcpy(num, t, SB);
        crypto_core_ed25519_scalar_sub(d, xj, xi);
        crypto_core_ed25519_scalar_mul(t, den, d);
        memcpy(den, t, SB);
    }
}

/* lambda_i for one participant. */
static int lagrange_one(unsigned char *out, const frost_commitment *c, size_t n, size_t i) {
    unsigned char num[SB], den[SB], t[SB];

    lagrange_parts(num, den, c, n, i);
    if (crypto_core_ed25519_scalar_invert(t, den) != 0) {
        return FROST_ERR_INTERNAL; /* only for duplicate identifiers */
    }
    crypto_core_ed25519_scalar_mul(out, num, t);
    return FROST_OK;
}

/* All n coefficients with one inversion (Montgomery's trick).  Scratch:
 * den and pre, n x 32 bytes each. */
static int lagrange_all(unsigned char *out, unsigned char *den, unsigned char *pre,
                        const frost_commitment *c, size_t n) {
    unsigned char d[SB], t[SB], inv[SB];
    size_t i;

    for (i = 0; i < n; i++) {
        lagrange_parts(out + SB * i, den + SB * i, c, n, i);
    }
    /* pre[i] = den[0] * ... * den[i] */
    memcpy(pre, den, SB);
    for (i = 1; i < n; i++) {
        crypto_core_ed25519_scalar_mul(pre + SB * i, pre + SB * (i - 1), den + SB * i);
    }
    if (crypto_core_ed25519_scalar_invert(inv, pre + SB * (n - 1)) != 0) {
        return FROST_ERR_INTERNAL;
    }
    /* walking back, inv = (den[0] * ... * den[i])^-1 */
    for (i = n - 1; i > 0; i--) {
        crypto_core_ed25519_scalar_mul(d, inv, pre + SB * (i - 1)); /* 1 / den[i] */
        crypto_core_ed25519_scalar_mul(t, inv, den + SB * i);
        memcpy(inv, t, SB);
        crypto_core_ed25519_scalar_mul(t, out + SB * i, d);
        memcpy(out + SB * i, t, SB);
    }
    crypto_core_ed25519_scalar_mul(t, out, inv);
    memcpy(out, t, SB);
    return FROST_OK;
}

/* ---- signing: round two (5.2) ------------------------------------------- */

int frost_sign(unsigned char *signature_share, frost_nonces *nonces,
               const unsigned char *msg, size_t msg_len,
               const frost_commitment *commitments, size_t n,
               uint32_t identifier, const unsigned char *signing_share,
               const unsigned char *group_public_key, size_t min_signers) {
    unsigned char prefix[PREFIX_BYTES], R[PB], comm[PB];
    unsigned char rho[SB], lambda[SB], c[SB], lc[SB], t1[SB], t2[SB], z[SB];
    size_t i;
    int rc;

    sodium_memzero(t1, sizeof t1);
    sodium_memzero(t2, sizeof t2);
    sodium_memzero(z, sizeof z);
    TRY(ensure_init());
    CHECK(signature_share != NULL && nonces != NULL && commitments != NULL &&
              signing_share != NULL && group_public_key != NULL, FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    TRY(check_commitment_list(commitments, n));
    CHECK(min_signers >= 2 && n >= min_signers, FROST_ERR_PARAMS);
    i = commitment_index(commitments, n, identifier);
    CHECK(i < n, FROST_ERR_UNKNOWN_IDENTIFIER);
    CHECK(secret_is_canonical_nonzero(nonces->hiding) &
              secret_is_canonical_nonzero(nonces->binding), FROST_ERR_BAD_NONCES);
    CHECK(memcmp(nonces->hiding_commitment, commitments[i].hiding, PB) == 0 &&
              memcmp(nonces->binding_commitment, commitments[i].binding, PB) == 0,
          FROST_ERR_BAD_NONCES);
    CHECK(secret_is_canonical(signing_share), FROST_ERR_BAD_SCALAR);
    CHECK(is_valid_point(group_public_key), FROST_ERR_BAD_POINT);

    TRY(binding_prefix(prefix, group_public_key, commitments, n, msg, msg_len));
    TRY(group_commitment(R, NULL, i, rho, comm, prefix, commitments, n));
    TRY(lagrange_one(lambda, commitments, n, i));
    TRY(challenge(c, R, group_public_key, msg, msg_len));

    /* z = d + e * rho + lambda * s * c */
    crypto_core_ed25519_scalar_mul(lc, lambda, c);
    crypto_core_ed25519_scalar_mul(t1, lc, signing_share);
    crypto_core_ed25519_scalar_mul(t2, nonces->binding, rho);
    crypto_core_ed25519_scalar_add(z, t1, t2);
    crypto_core_ed25519_scalar_add(t1, z, nonces->hiding);
    memcpy(signature_share, t1, SB);
    declassify(signature_share, SB); /* the published share */
done:
    if (nonces != NULL) {
        sodium_memzero(nonces, sizeof *nonces);
    }
    sodium_memzero(t1, sizeof t1);
    sodium_memzero(t2, sizeof t2);
    sodium_memzero(z, sizeof z);
    if (rc != FROST_OK && signature_share != NULL) {
        sodium_memzero(signature_share, SB);
    }
    return rc;
}

/* ---- share verification (5.4), aggregation (5.3), verification (6.1) ---- */

/* [z]B == comm + [c * lambda]Y; a non-canonical z is an invalid share. */
static int share_check(const unsigned char *z, const unsigned char *comm,
                       const unsigned char *Y, const unsigned char *c,
                       const unsigned char *lambda) {
    unsigned char cl[SB], lhs[PB], rhs[PB];
    int rc;

    CHECK(scalar_is_canonical(z), FROST_ERR_INVALID_SIGNATURE_SHARE);
    crypto_core_ed25519_scalar_mul(cl, c, lambda);
    TRY(point_mul(rhs, cl, Y)); /* validates Y */
    TRY(point_add(rhs, rhs, comm));
    TRY(base_mul_public(lhs, z));
    CHECK(memcmp(lhs, rhs, PB) == 0, FROST_ERR_INVALID_SIGNATURE_SHARE);
done:
    return rc;
}

int frost_verify_signature_share(uint32_t identifier, const unsigned char *signature_share,
                                 const unsigned char *verifying_share,
                                 const unsigned char *msg, size_t msg_len,
                                 const frost_commitment *commitments, size_t n,
                                 const unsigned char *group_public_key) {
    unsigned char prefix[PREFIX_BYTES], R[PB], comm[PB], rho[SB], lambda[SB], c[SB];
    size_t i;
    int rc;

    TRY(ensure_init());
    CHECK(signature_share != NULL && verifying_share != NULL && commitments != NULL &&
              group_public_key != NULL, FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    TRY(check_commitment_list(commitments, n));
    i = commitment_index(commitments, n, identifier);
    CHECK(i < n, FROST_ERR_UNKNOWN_IDENTIFIER);
    CHECK(is_valid_point(group_public_key), FROST_ERR_BAD_POINT);
    CHECK(is_valid_point(verifying_share), FROST_ERR_BAD_POINT);

    TRY(binding_prefix(prefix, group_public_key, commitments, n, msg, msg_len));
    TRY(group_commitment(R, NULL, i, rho, comm, prefix, commitments, n));
    TRY(lagrange_one(lambda, commitments, n, i));
    TRY(challenge(c, R, group_public_key, msg, msg_len));
    rc = share_check(signature_share, comm, verifying_share, c, lambda);
done:
    return rc;
}

/* The cofactored equation of 6.1: [8]([z]B - R - [c]PK) == identity, with
 * c = H2(R || PK || msg).  PK is validated by the multiplication; R must be
 * a valid element (the caller checks it, or built it from valid elements). */
static int cofactored_check(const unsigned char *R, const unsigned char *z,
                            const unsigned char *pk, const unsigned char *msg, size_t msg_len) {
    unsigned char c[SB], zB[PB], cA[PB], X[PB];
    int k, rc;

    TRY(challenge(c, R, pk, msg, msg_len));
    TRY(point_mul(cA, c, pk)); /* FROST_ERR_BAD_POINT for an invalid PK */
    CHECK(scalar_is_canonical(z), FROST_ERR_INVALID_SIGNATURE);
    TRY(base_mul_public(zB, z));
    TRY(point_sub(X, zB, cA));
    TRY(point_sub(X, X, R));
    for (k = 0; k < 3; k++) {
        TRY(point_add(X, X, X));
    }
    CHECK(is_identity(X), FROST_ERR_INVALID_SIGNATURE);
done:
    return rc;
}

int frost_verify(const unsigned char *signature, const unsigned char *msg, size_t msg_len,
                 const unsigned char *group_public_key) {
    int rc;

    TRY(ensure_init());
    CHECK(signature != NULL && group_public_key != NULL, FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    /* R is decoded as RFC 9591 DeserializeElement does: canonical, not the
     * identity, in the prime-order subgroup */
    if (!is_valid_point(signature)) {
        /* still report an invalid group key as such */
        CHECK(is_valid_point(group_public_key), FROST_ERR_BAD_POINT);
        rc = FROST_ERR_INVALID_SIGNATURE;
        goto done;
    }
    rc = cofactored_check(signature, signature + PB, group_public_key, msg, msg_len);
done:
    return rc;
}

int frost_aggregate(unsigned char *signature, uint32_t *culprits, size_t *n_culprits,
                    const unsigned char *msg, size_t msg_len,
                    const frost_commitment *commitments, size_t n,
                    const unsigned char *signature_shares, const unsigned char *verifying_shares,
                    const unsigned char *group_public_key, size_t min_signers) {
    unsigned char prefix[PREFIX_BYTES], R[PB], c[SB], z[SB], t[SB];
    unsigned char *buf = NULL, *comm, *lambda, *den, *pre;
    size_t k;
    int rc;

    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(signature != NULL && culprits != NULL && n_culprits != NULL && commitments != NULL &&
              signature_shares != NULL && verifying_shares != NULL && group_public_key != NULL,
          FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    TRY(check_commitment_list(commitments, n));
    CHECK(min_signers >= 2 && n >= min_signers, FROST_ERR_PARAMS);
    CHECK(is_valid_point(group_public_key), FROST_ERR_BAD_POINT);

    buf = malloc(4 * SB * n);
    CHECK(buf != NULL, FROST_ERR_NO_MEMORY);
    comm = buf;
    lambda = buf + SB * n;
    den = buf + 2 * SB * n;
    pre = buf + 3 * SB * n;

    TRY(binding_prefix(prefix, group_public_key, commitments, n, msg, msg_len));
    TRY(group_commitment(R, comm, n, NULL, NULL, prefix, commitments, n));
    TRY(lagrange_all(lambda, den, pre, commitments, n));
    TRY(challenge(c, R, group_public_key, msg, msg_len));

    memset(z, 0, SB);
    for (k = 0; k < n; k++) {
        int r = share_check(signature_shares + SB * k, comm + PB * k, verifying_shares + PB * k,
                            c, lambda + SB * k);
        if (r == FROST_ERR_INVALID_SIGNATURE_SHARE) {
            culprits[(*n_culprits)++] = commitments[k].identifier;
            continue;
        }
        TRY(r);
        crypto_core_ed25519_scalar_add(t, z, signature_shares + SB * k);
        memcpy(z, t, SB);
    }
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SIGNATURE_SHARE);

    /* every share is valid; the signature is too unless the verifying
     * shares do not interpolate to the group key.  R is valid by
     * construction (a non-identity sum of valid elements). */
    memcpy(signature, R, PB);
    memcpy(signature + PB, z, SB);
    CHECK(cofactored_check(R, z, group_public_key, msg, msg_len) == FROST_OK,
          FROST_ERR_INVALID_SIGNATURE);
done:
    free(buf);
    if (rc != FROST_OK && signature != NULL) {
        sodium_memzero(signature, FROST_SIGNATURE_BYTES);
    }
    return rc;
}
