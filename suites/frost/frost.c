/* frost.c - FROST(Ed25519, SHA-512), RFC 9591, over libsodium, and the
 * key-keeping membership changes: refresh, repair (RTS) and reshare.
 *
 * Reading guide: section numbers refer to RFC 9591.  Secret values are the
 * signing shares, polynomial coefficients, nonces, repair deltas and sigmas
 * and the values derived from them; they only ever meet constant-time
 * libsodium scalar operations, crypto_scalarmult_ed25519_base_noclamp and
 * SHA-512, and every stack buffer holding one is wiped on every return path
 * (the `done:` labels).  Branches on secrets are limited to "is this scalar
 * canonical / zero", which only decide whether to fail.
 *
 * Group operations on public data (commitments, verifying shares, group
 * keys, signatures) use the variable-time arithmetic of ed25519_vt.c: every
 * point is decoded and validated once per call, and sums of multiples are
 * multi-scalar multiplications.
 */
#include "frost.h"
#include "ed25519_vt.h"

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
    case FROST_ERR_MISMATCH: return "key material does not match the group's public keys";
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

/* Public points are decoded once per call into vt_point (ed25519_vt.c,
 * variable time) and validated there: canonical, on the curve, not the
 * identity, in the prime-order subgroup. */

static int is_identity(const unsigned char *p) {
    return memcmp(p, IDENTITY, PB) == 0; /* public data */
}

static int decode_point(vt_point *r, const unsigned char *p) {
    return vt_decode_valid(r, p) ? FROST_OK : FROST_ERR_BAD_POINT;
}

static int is_valid_point(const unsigned char *p) {
    vt_point r;
    return vt_decode_valid(&r, p);
}

/* n points, 32 bytes each */
static int decode_points(vt_point *r, const unsigned char *p, size_t n) {
    size_t k;
    for (k = 0; k < n; k++) {
        if (!vt_decode_valid(&r[k], p + PB * k)) {
            return FROST_ERR_BAD_POINT;
        }
    }
    return FROST_OK;
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

/* 1 iff [secret]B is the point `expect` (secret must be canonical and not
 * zero; the caller checks).  FROST_ERR_BAD_SCALAR for a zero secret. */
static int secret_matches(int *match, const unsigned char *secret, const vt_point *expect) {
    unsigned char got[PB], want[PB];
    int rc;
    *match = 0;
    TRY(base_mul_secret(got, secret));
    vt_encode(want, expect);
    *match = memcmp(got, want, PB) == 0;
done:
    return rc;
}

/* Hand out s as a new signing share if [s]B is Y; else err. */
static int release_share(unsigned char *out, const unsigned char *s, const vt_point *Y, int err) {
    int match, rc;
    CHECK(secret_is_canonical_nonzero(s), err);
    TRY(secret_matches(&match, s, Y));
    CHECK(match, err);
    memcpy(out, s, SB);
done:
    return rc;
}

/* sum_k [s_k]P_k == expect, for public scalars and points */
static int msm_is(int *equal, const unsigned char *scalars, const vt_point *points, size_t n,
                  const vt_point *expect) {
    vt_point r;
    if (vt_msm(&r, scalars, points, n) != 0) {
        return FROST_ERR_NO_MEMORY;
    }
    *equal = vt_equal(&r, expect);
    return FROST_OK;
}

/* r = [s]P for a public scalar s */
static int point_mul(vt_point *r, const unsigned char *s, const vt_point *p) {
    return vt_msm(r, s, p, 1) == 0 ? FROST_OK : FROST_ERR_NO_MEMORY;
}

static void scalar_negate(unsigned char *r, const unsigned char *s) {
    crypto_core_ed25519_scalar_negate(r, s);
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

/* ---- Lagrange coefficients (4.2) ----------------------------------------- */

/* lambda_i(x) = num / den with num = prod_{j != i} (x_j - x) and
 * den = prod_{j != i} (x_j - x_i) over a list of identifiers (public
 * values); x = 0 for signing and resharing, the lost identifier for repair. */
static void lagrange_parts(unsigned char *num, unsigned char *den, const uint32_t *ids, size_t n,
                           size_t i, uint32_t x) {
    unsigned char xi[SB], xj[SB], xs[SB], d[SB], t[SB];
    size_t j;

    scalar_from_u32(xi, ids[i]);
    scalar_from_u32(xs, x);
    scalar_from_u32(num, 1);
    scalar_from_u32(den, 1);
    for (j = 0; j < n; j++) {
        if (j == i) {
            continue;
        }
        scalar_from_u32(xj, ids[j]);
        crypto_core_ed25519_scalar_sub(d, xj, xs);
        crypto_core_ed25519_scalar_mul(t, num, d);
        memcpy(num, t, SB);
        crypto_core_ed25519_scalar_sub(d, xj, xi);
        crypto_core_ed25519_scalar_mul(t, den, d);
        memcpy(den, t, SB);
    }
}

/* lambda_i(x) for one participant of a checked (distinct) identifier list. */
static int lagrange_one(unsigned char *out, const uint32_t *ids, size_t n, size_t i, uint32_t x) {
    unsigned char num[SB], den[SB], t[SB];

    lagrange_parts(num, den, ids, n, i, x);
    if (crypto_core_ed25519_scalar_invert(t, den) != 0) {
        return FROST_ERR_INTERNAL; /* only for duplicate identifiers */
    }
    crypto_core_ed25519_scalar_mul(out, num, t);
    return FROST_OK;
}

/* All n coefficients lambda_i(0) with one inversion (Montgomery's trick).
 * Scratch: den and pre, n x 32 bytes each. */
static int lagrange_all(unsigned char *out, unsigned char *den, unsigned char *pre,
                        const uint32_t *ids, size_t n) {
    unsigned char d[SB], t[SB], inv[SB];
    size_t i;

    for (i = 0; i < n; i++) {
        lagrange_parts(out + SB * i, den + SB * i, ids, n, i, 0);
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

/* Index of id in a list, or n. */
static size_t id_index(const uint32_t *ids, size_t n, uint32_t id) {
    size_t k;
    for (k = 0; k < n; k++) {
        if (ids[k] == id) {
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

/* Deal f (coeffs, t x 32, secret) to n identifiers: shares f(id_k) and the
 * commitment [a_j]B.  With zero_constant, a_0 is 0 and C_0 the identity
 * (refresh); otherwise a_0 must not be zero.  a_1.. must not be zero. */
static int deal(unsigned char *shares, unsigned char *commitment, const unsigned char *coeffs,
                int zero_constant, const uint32_t *ids, size_t n, size_t t) {
    size_t j, k;
    int rc = FROST_OK;

    for (j = 0; j < t; j++) {
        if (j == 0 && zero_constant) {
            memcpy(commitment, IDENTITY, PB);
            continue;
        }
        CHECK(secret_is_canonical_nonzero(coeffs + SB * j), FROST_ERR_BAD_SCALAR);
        TRY(base_mul_secret(commitment + PB * j, coeffs + SB * j));
    }
    for (k = 0; k < n; k++) {
        poly_eval(shares + SB * k, coeffs, t, ids[k]);
    }
done:
    return rc;
}

/* t random non-zero coefficients a_0..a_{t-1} (a_0 is then overwritten by
 * the callers that fix it). */
static void random_coefficients(unsigned char *coeffs, size_t t) {
    size_t j;
    for (j = 0; j < t; j++) {
        do {
            crypto_core_ed25519_scalar_random(coeffs + SB * j);
        } while (!secret_is_canonical_nonzero(coeffs + SB * j));
    }
}

/* sum_j [x^j]C_j = C_0 + x(C_1 + x(C_2 + ...)) over a decoded commitment */
static void vss_eval(vt_point *out, const vt_point *C, size_t t, uint32_t x) {
    size_t j = t - 1;
    *out = C[j];
    while (j-- > 0) {
        vt_mul_u32(out, out, x);
        vt_add(out, out, &C[j]);
    }
}

/* Decode a commitment of t points: every point valid, except that with
 * zero_constant C_0 must be the identity encoding. */
static int decode_commitment(vt_point *C, const unsigned char *enc, size_t t, int zero_constant) {
    if (zero_constant) {
        if (!is_identity(enc)) {
            return FROST_ERR_BAD_POINT;
        }
        vt_identity(&C[0]);
        return decode_points(C + 1, enc + PB, t - 1);
    }
    return decode_points(C, enc, t);
}

/* [share]B == sum_j [id^j]C_j; a non-canonical or zero share fails. */
static int vss_check(uint32_t id, const unsigned char *share, const vt_point *C, size_t t) {
    vt_point expect;
    int match, rc;

    CHECK(secret_is_canonical_nonzero(share), FROST_ERR_INVALID_SHARE);
    vss_eval(&expect, C, t, id);
    TRY(secret_matches(&match, share, &expect));
    CHECK(match, FROST_ERR_INVALID_SHARE);
done:
    return rc;
}

int frost_vss_verify(uint32_t identifier, const unsigned char *share,
                     const unsigned char *vss_commitment, size_t min_signers) {
    vt_point *C = NULL;
    int rc;
    TRY(ensure_init());
    CHECK(share != NULL && vss_commitment != NULL, FROST_ERR_PARAMS);
    CHECK(min_signers >= 2 && min_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    C = malloc(sizeof *C * min_signers);
    CHECK(C != NULL, FROST_ERR_NO_MEMORY);
    /* the commitment first, so that a malformed one is FROST_ERR_BAD_POINT */
    TRY(decode_commitment(C, vss_commitment, min_signers, 0));
    rc = vss_check(identifier, share, C, min_signers);
done:
    free(C);
    return rc;
}

int frost_dealer_keygen(unsigned char *shares, unsigned char *vss_commitment,
                        unsigned char *group_public_key,
                        const uint32_t *identifiers, size_t max_signers, size_t min_signers,
                        const unsigned char *secret, const unsigned char *coefficients) {
    unsigned char *coeffs = NULL; /* secret polynomial a_0..a_{t-1} */
    size_t j, n_out = 0, t_out = 0;
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
    random_coefficients(coeffs, min_signers);
    for (j = 0; j < min_signers; j++) {
        const unsigned char *given = (j == 0) ? secret
                                   : (coefficients != NULL ? coefficients + SB * (j - 1) : NULL);
        if (given != NULL) {
            memcpy(coeffs + SB * j, given, SB);
        }
    }
    TRY(deal(shares, vss_commitment, coeffs, 0, identifiers, max_signers, min_signers));
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

/* sums[j] = sum_k C_{k,j} over n_comm decoded commitments of t points */
static void sum_commitments(vt_point *sums, const vt_point *C, size_t n_comm, size_t t) {
    size_t j, k;
    for (j = 0; j < t; j++) {
        sums[j] = C[j];
        for (k = 1; k < n_comm; k++) {
            vt_add(&sums[j], &sums[j], &C[t * k + j]);
        }
    }
}

/* Y_k = sum_j [id_k^j] S_j for summed commitments S; none may be the
 * identity.  Y_k encoded into verifying_shares (n x 32). */
static int verifying_shares_of(unsigned char *verifying_shares, const vt_point *S, size_t t,
                               const uint32_t *ids, size_t n) {
    vt_point Y;
    size_t k;
    for (k = 0; k < n; k++) {
        vss_eval(&Y, S, t, ids[k]);
        if (vt_is_identity(&Y)) {
            return FROST_ERR_BAD_POINT;
        }
        vt_encode(verifying_shares + PB * k, &Y);
    }
    return FROST_OK;
}

int frost_public_key_package(unsigned char *group_public_key, unsigned char *verifying_shares,
                             const uint32_t *identifiers, size_t n_identifiers,
                             const unsigned char *commitments, size_t n_commitments,
                             size_t min_signers) {
    vt_point *C = NULL, *S;
    size_t n_out = 0;
    int rc;

    TRY(ensure_init());
    CHECK(group_public_key != NULL && verifying_shares != NULL && identifiers != NULL &&
              commitments != NULL, FROST_ERR_PARAMS);
    CHECK(n_identifiers >= 1 && n_identifiers <= FROST_MAX_PARTICIPANTS &&
              n_commitments >= 1 && n_commitments <= FROST_MAX_PARTICIPANTS &&
              min_signers >= 2 && min_signers <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    n_out = n_identifiers;
    TRY(check_identifiers(identifiers, n_identifiers));

    C = malloc(sizeof *C * min_signers * (n_commitments + 1));
    CHECK(C != NULL, FROST_ERR_NO_MEMORY);
    S = C + min_signers * n_commitments;
    TRY(decode_points(C, commitments, min_signers * n_commitments));
    sum_commitments(S, C, n_commitments, min_signers);
    CHECK(!vt_is_identity(&S[0]), FROST_ERR_BAD_POINT); /* the group key */
    vt_encode(group_public_key, &S[0]);
    TRY(verifying_shares_of(verifying_shares, S, min_signers, identifiers, n_identifiers));
done:
    free(C);
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

/* The proof of a decoded commitment C (whose first point is encoded at c0):
 * [mu]B - [c]C_0 == R. */
static int check_proof(uint32_t id, const vt_point *C, const unsigned char *c0,
                       const unsigned char *proof, const unsigned char *ctx, size_t ctx_len) {
    const unsigned char *mu = proof + PB;
    unsigned char c[SB], sc[2 * SB];
    vt_point R, pts[2];
    int equal, rc;

    CHECK(vt_decode_valid(&R, proof) && scalar_is_canonical(mu), FROST_ERR_INVALID_PROOF);
    TRY(pok_challenge(c, ctx, ctx_len, id, c0, proof));
    memcpy(sc, mu, SB);
    scalar_negate(sc + SB, c);
    vt_base(&pts[0]);
    pts[1] = C[0];
    TRY(msm_is(&equal, sc, pts, 2, &R));
    CHECK(equal, FROST_ERR_INVALID_PROOF);
done:
    return rc;
}

static int verify_proof(uint32_t id, const unsigned char *commitment, size_t t,
                        const unsigned char *proof, const unsigned char *ctx, size_t ctx_len) {
    vt_point *C = malloc(sizeof *C * t);
    int rc;

    CHECK(C != NULL, FROST_ERR_NO_MEMORY);
    TRY(decode_points(C, commitment, t));
    rc = check_proof(id, C, commitment, proof, ctx, ctx_len);
done:
    free(C);
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

    random_coefficients(coefficients, min_signers);
    for (j = 0; j < min_signers; j++) {
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

/* Sum n secret shares into out (constant time). */
static void sum_secrets(unsigned char *out, const unsigned char *shares, size_t n) {
    unsigned char tmp[SB];
    size_t k;
    memset(out, 0, SB);
    for (k = 0; k < n; k++) {
        crypto_core_ed25519_scalar_add(tmp, out, shares + SB * k);
        memcpy(out, tmp, SB);
    }
    sodium_memzero(tmp, sizeof tmp);
}

int frost_dkg_part3(unsigned char *signing_share, unsigned char *group_public_key,
                    unsigned char *verifying_shares, uint32_t *culprits, size_t *n_culprits,
                    uint32_t identifier, const uint32_t *identifiers,
                    const unsigned char *commitments, const unsigned char *shares,
                    size_t n, size_t min_signers) {
    unsigned char s[SB];
    vt_point *C = NULL, *S, mine;
    size_t k, own, n_out = 0;
    int match, rc;

    sodium_memzero(s, sizeof s);
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
    own = id_index(identifiers, n, identifier);
    CHECK(own < n, FROST_ERR_UNKNOWN_IDENTIFIER);
    C = malloc(sizeof *C * min_signers * (n + 1));
    CHECK(C != NULL, FROST_ERR_NO_MEMORY);
    S = C + min_signers * n;

    /* each sender's share against that sender's commitment */
    for (k = 0; k < n; k++) {
        int r = decode_commitment(C + min_signers * k, commitments + PB * min_signers * k,
                                  min_signers, 0);
        if (r == FROST_OK) {
            r = vss_check(identifier, shares + SB * k, C + min_signers * k, min_signers);
        }
        if (r == FROST_ERR_INVALID_SHARE || r == FROST_ERR_BAD_POINT) {
            culprits[(*n_culprits)++] = identifiers[k];
        } else {
            TRY(r);
        }
    }
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);

    sum_secrets(s, shares, n);
    sum_commitments(S, C, n, min_signers);
    CHECK(!vt_is_identity(&S[0]), FROST_ERR_BAD_POINT);
    vt_encode(group_public_key, &S[0]);
    TRY(verifying_shares_of(verifying_shares, S, min_signers, identifiers, n));
    /* consistency: [s]B must be our own verifying share */
    vss_eval(&mine, S, min_signers, identifier);
    TRY(secret_matches(&match, s, &mine));
    CHECK(match, FROST_ERR_INTERNAL);
    memcpy(signing_share, s, SB);
done:
    free(C);
    sodium_memzero(s, sizeof s);
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

/* ---- the signing package, decoded once (4.3-4.6) -------------------------- */

/* Everything sign, share verification and aggregation derive from the
 * commitment list: the decoded D_k and E_k, binding factors rho_k, the group
 * commitment R = sum_k D_k + [rho_k]E_k (one multi-scalar multiplication)
 * and the challenge c.  All public. */
typedef struct {
    size_t n;
    uint32_t *ids;        /* n */
    vt_point *D, *E;      /* n each */
    unsigned char *rho;   /* n x 32 */
    vt_point R;
    unsigned char R_enc[PB];
    unsigned char c[SB];
    void *mem;
} signing_package;

static void package_free(signing_package *g) {
    free(g->mem);
    g->mem = NULL;
}

/* Decode and validate the list (every D_k and E_k a valid element, R not
 * the identity) and compute rho, R and c.  On error g holds no memory. */
static int package_open(signing_package *g, const unsigned char *pk,
                        const frost_commitment *c, size_t n,
                        const unsigned char *msg, size_t msg_len) {
    unsigned char prefix[PREFIX_BYTES];
    unsigned char *mem;
    size_t k;
    int rc = FROST_OK;

    memset(g, 0, sizeof *g);
    mem = malloc(n * (sizeof(uint32_t) + 2 * sizeof(vt_point) + SB) + 16);
    CHECK(mem != NULL, FROST_ERR_NO_MEMORY);
    g->mem = mem;
    g->n = n;
    g->D = (vt_point *)mem;
    g->E = g->D + n;
    g->rho = (unsigned char *)(g->E + n);
    g->ids = (uint32_t *)(g->rho + SB * n);
    for (k = 0; k < n; k++) {
        g->ids[k] = c[k].identifier;
        TRY(decode_point(&g->D[k], c[k].hiding));
        TRY(decode_point(&g->E[k], c[k].binding));
    }
    TRY(binding_prefix(prefix, pk, c, n, msg, msg_len));
    for (k = 0; k < n; k++) {
        TRY(binding_factor(g->rho + SB * k, NULL, prefix, c[k].identifier));
    }
    CHECK(vt_msm(&g->R, g->rho, g->E, n) == 0, FROST_ERR_NO_MEMORY);
    for (k = 0; k < n; k++) {
        vt_add(&g->R, &g->R, &g->D[k]);
    }
    /* SerializeElement(identity) fails in RFC 9591, so R must not be it */
    CHECK(!vt_is_identity(&g->R), FROST_ERR_BAD_POINT);
    vt_encode(g->R_enc, &g->R);
    TRY(challenge(g->c, g->R_enc, pk, msg, msg_len));
done:
    if (rc != FROST_OK) {
        package_free(g);
    }
    return rc;
}

/* ---- signing: round two (5.2) ------------------------------------------- */

int frost_sign(unsigned char *signature_share, frost_nonces *nonces,
               const unsigned char *msg, size_t msg_len,
               const frost_commitment *commitments, size_t n,
               uint32_t identifier, const unsigned char *signing_share,
               const unsigned char *group_public_key, size_t min_signers) {
    signing_package g;
    unsigned char lambda[SB], lc[SB], t1[SB], t2[SB], z[SB];
    size_t i;
    int rc;

    g.mem = NULL;
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

    TRY(package_open(&g, group_public_key, commitments, n, msg, msg_len));
    TRY(lagrange_one(lambda, g.ids, n, i, 0));

    /* z = d + e * rho + lambda * s * c */
    crypto_core_ed25519_scalar_mul(lc, lambda, g.c);
    crypto_core_ed25519_scalar_mul(t1, lc, signing_share);
    crypto_core_ed25519_scalar_mul(t2, nonces->binding, g.rho + SB * i);
    crypto_core_ed25519_scalar_add(z, t1, t2);
    crypto_core_ed25519_scalar_add(t1, z, nonces->hiding);
    memcpy(signature_share, t1, SB);
    declassify(signature_share, SB); /* the published share */
done:
    package_free(&g);
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

/* Signer k's share: [z]B - [rho_k]E_k - [c lambda]Y == D_k, z canonical. */
static int share_ok(int *ok, const signing_package *g, size_t k, const unsigned char *z,
                    const vt_point *Y, const unsigned char *lambda) {
    unsigned char sc[3 * SB], t[SB];
    vt_point pts[3];

    *ok = 0;
    if (!scalar_is_canonical(z)) {
        return FROST_OK;
    }
    memcpy(sc, z, SB);
    scalar_negate(sc + SB, g->rho + SB * k);
    crypto_core_ed25519_scalar_mul(t, g->c, lambda);
    scalar_negate(sc + 2 * SB, t);
    vt_base(&pts[0]);
    pts[1] = g->E[k];
    pts[2] = *Y;
    return msm_is(ok, sc, pts, 3, &g->D[k]);
}

int frost_verify_signature_share(uint32_t identifier, const unsigned char *signature_share,
                                 const unsigned char *verifying_share,
                                 const unsigned char *msg, size_t msg_len,
                                 const frost_commitment *commitments, size_t n,
                                 const unsigned char *group_public_key) {
    signing_package g;
    unsigned char lambda[SB];
    vt_point Y;
    size_t i;
    int ok, rc;

    g.mem = NULL;
    TRY(ensure_init());
    CHECK(signature_share != NULL && verifying_share != NULL && commitments != NULL &&
              group_public_key != NULL, FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    TRY(check_commitment_list(commitments, n));
    i = commitment_index(commitments, n, identifier);
    CHECK(i < n, FROST_ERR_UNKNOWN_IDENTIFIER);
    CHECK(is_valid_point(group_public_key), FROST_ERR_BAD_POINT);
    TRY(decode_point(&Y, verifying_share));

    TRY(package_open(&g, group_public_key, commitments, n, msg, msg_len));
    TRY(lagrange_one(lambda, g.ids, n, i, 0));
    TRY(share_ok(&ok, &g, i, signature_share, &Y, lambda));
    CHECK(ok, FROST_ERR_INVALID_SIGNATURE_SHARE);
done:
    package_free(&g);
    return rc;
}

/* [z]B - [c]PK == R with c = H2(R || PK || msg), z canonical.  R, PK and B
 * are in the prime-order subgroup, so this is the cofactored equation of
 * 6.1, [8]([z]B - R - [c]PK) == identity, and the cofactorless one of RFC
 * 8032 alike. */
static int signature_ok(int *ok, const vt_point *R, const unsigned char *R_enc,
                        const unsigned char *z, const vt_point *PK, const unsigned char *pk,
                        const unsigned char *msg, size_t msg_len) {
    unsigned char c[SB], sc[2 * SB];
    vt_point pts[2];
    int rc;

    *ok = 0;
    if (!scalar_is_canonical(z)) {
        return FROST_OK;
    }
    TRY(challenge(c, R_enc, pk, msg, msg_len));
    memcpy(sc, z, SB);
    scalar_negate(sc + SB, c);
    vt_base(&pts[0]);
    pts[1] = *PK;
    rc = msm_is(ok, sc, pts, 2, R);
done:
    return rc;
}

int frost_verify(const unsigned char *signature, const unsigned char *msg, size_t msg_len,
                 const unsigned char *group_public_key) {
    vt_point PK, R;
    int ok, rc;

    TRY(ensure_init());
    CHECK(signature != NULL && group_public_key != NULL, FROST_ERR_PARAMS);
    CHECK(msg != NULL || msg_len == 0, FROST_ERR_PARAMS);
    TRY(decode_point(&PK, group_public_key));
    /* R is decoded as RFC 9591 DeserializeElement does: canonical, not the
     * identity, in the prime-order subgroup */
    CHECK(vt_decode_valid(&R, signature), FROST_ERR_INVALID_SIGNATURE);
    TRY(signature_ok(&ok, &R, signature, signature + PB, &PK, group_public_key, msg, msg_len));
    CHECK(ok, FROST_ERR_INVALID_SIGNATURE);
done:
    return rc;
}

int frost_aggregate(unsigned char *signature, uint32_t *culprits, size_t *n_culprits,
                    const unsigned char *msg, size_t msg_len,
                    const frost_commitment *commitments, size_t n,
                    const unsigned char *signature_shares, const unsigned char *verifying_shares,
                    const unsigned char *group_public_key, size_t min_signers) {
    signing_package g;
    unsigned char z[SB], t[SB];
    unsigned char *buf = NULL, *lambda, *den, *pre;
    vt_point PK, *Y = NULL;
    size_t k;
    int ok, canonical = 1, rc;

    g.mem = NULL;
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
    TRY(decode_point(&PK, group_public_key));
    TRY(package_open(&g, group_public_key, commitments, n, msg, msg_len));

    /* z = sum z_k; if R || z verifies, every share did its part */
    memset(z, 0, SB);
    for (k = 0; k < n; k++) {
        canonical &= scalar_is_canonical(signature_shares + SB * k);
        crypto_core_ed25519_scalar_add(t, z, signature_shares + SB * k);
        memcpy(z, t, SB);
    }
    ok = 0;
    if (canonical) {
        TRY(signature_ok(&ok, &g.R, g.R_enc, z, &PK, group_public_key, msg, msg_len));
    }
    if (!ok) {
        /* name every signer whose share fails (5.4) */
        buf = malloc(3 * SB * n);
        Y = malloc(sizeof *Y * n);
        CHECK(buf != NULL && Y != NULL, FROST_ERR_NO_MEMORY);
        lambda = buf;
        den = buf + SB * n;
        pre = buf + 2 * SB * n;
        TRY(decode_points(Y, verifying_shares, n));
        TRY(lagrange_all(lambda, den, pre, g.ids, n));
        for (k = 0; k < n; k++) {
            int one;
            TRY(share_ok(&one, &g, k, signature_shares + SB * k, &Y[k], lambda + SB * k));
            if (!one) {
                culprits[(*n_culprits)++] = commitments[k].identifier;
            }
        }
        CHECK(*n_culprits == 0, FROST_ERR_INVALID_SIGNATURE_SHARE);
        /* every share is valid but the signature is not: the verifying
         * shares do not interpolate to the group key */
        rc = FROST_ERR_INVALID_SIGNATURE;
        goto done;
    }
    memcpy(signature, g.R_enc, PB);
    memcpy(signature + PB, z, SB);
done:
    package_free(&g);
    free(buf);
    free(Y);
    if (rc != FROST_OK && signature != NULL) {
        sodium_memzero(signature, FROST_SIGNATURE_BYTES);
    }
    return rc;
}

/* ---- refresh: new shares of the same secret for the same members -------- */

/* Decode every dealer's commitment (t points, C_0 the identity if
 * zero_constant) into C (n_dealers x t); a dealer whose commitment is
 * malformed gets bad[k] = 1. */
static void decode_dealings(unsigned char *bad, vt_point *C, const unsigned char *commitments,
                            size_t n_dealers, size_t t, int zero_constant) {
    size_t k;
    for (k = 0; k < n_dealers; k++) {
        bad[k] = decode_commitment(C + t * k, commitments + PB * t * k, t, zero_constant) !=
                 FROST_OK;
    }
}

static void name_culprits(uint32_t *culprits, size_t *n_culprits, const unsigned char *bad,
                          const uint32_t *ids, size_t n) {
    size_t k;
    *n_culprits = 0;
    for (k = 0; k < n; k++) {
        if (bad[k]) {
            culprits[(*n_culprits)++] = ids[k];
        }
    }
}

/* Checks common to the refresh entry points: the identifiers, the old
 * verifying shares (decoded into Y, n points) and every dealer's
 * commitment (decoded into C, n x t; bad[k] = 1 for a malformed one or one
 * whose constant term is not the identity). */
static int refresh_common(unsigned char *bad, vt_point *C, vt_point *Y,
                          const uint32_t *ids, const unsigned char *verifying_shares, size_t n,
                          const unsigned char *commitments, size_t t) {
    int rc;

    TRY(check_identifiers(ids, n));
    TRY(decode_points(Y, verifying_shares, n));
    decode_dealings(bad, C, commitments, n, t, 1);
done:
    return rc;
}

/* Y'_m = Y_m + sum_j [m^j]S_j, none the identity, encoded. */
static int refreshed_verifying_shares(unsigned char *out, const vt_point *Y, const vt_point *S,
                                      size_t t, const uint32_t *ids, size_t n) {
    vt_point d;
    size_t k;
    for (k = 0; k < n; k++) {
        vss_eval(&d, S, t, ids[k]);
        vt_add(&d, &d, &Y[k]);
        if (vt_is_identity(&d)) {
            return FROST_ERR_BAD_POINT;
        }
        vt_encode(out + PB * k, &d);
    }
    return FROST_OK;
}

static int refresh_params(size_t n, size_t t) {
    return t >= 2 && t <= n && n <= FROST_MAX_PARTICIPANTS ? FROST_OK : FROST_ERR_PARAMS;
}

int frost_refresh_deal(unsigned char *shares, unsigned char *commitment,
                       const uint32_t *identifiers, size_t n, size_t min_signers) {
    unsigned char *coeffs = NULL;
    size_t n_out = 0;
    int rc;

    TRY(ensure_init());
    CHECK(shares != NULL && commitment != NULL && identifiers != NULL, FROST_ERR_PARAMS);
    TRY(refresh_params(n, min_signers));
    n_out = n;
    TRY(check_identifiers(identifiers, n));
    coeffs = malloc(SB * min_signers);
    CHECK(coeffs != NULL, FROST_ERR_NO_MEMORY);
    random_coefficients(coeffs, min_signers);
    memset(coeffs, 0, SB); /* a sharing of zero */
    TRY(deal(shares, commitment, coeffs, 1, identifiers, n, min_signers));
done:
    if (coeffs != NULL) {
        sodium_memzero(coeffs, SB * min_signers);
        free(coeffs);
    }
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(shares, SB * n_out);
        sodium_memzero(commitment, PB * min_signers);
    }
    return rc;
}

int frost_refresh_public_key_package(unsigned char *new_verifying_shares,
                                     uint32_t *culprits, size_t *n_culprits,
                                     const uint32_t *identifiers,
                                     const unsigned char *verifying_shares, size_t n,
                                     const unsigned char *commitments, size_t min_signers) {
    unsigned char *bad = NULL;
    vt_point *C = NULL;
    size_t n_out = 0;
    int rc;

    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(new_verifying_shares != NULL && culprits != NULL && n_culprits != NULL &&
              identifiers != NULL && verifying_shares != NULL && commitments != NULL,
          FROST_ERR_PARAMS);
    TRY(refresh_params(n, min_signers));
    n_out = n;
    bad = malloc(n);
    C = malloc(sizeof *C * (min_signers * (n + 1) + n));
    CHECK(bad != NULL && C != NULL, FROST_ERR_NO_MEMORY);
    TRY(refresh_common(bad, C, C + min_signers * (n + 1), identifiers, verifying_shares, n,
                       commitments, min_signers));
    name_culprits(culprits, n_culprits, bad, identifiers, n);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);
    sum_commitments(C + min_signers * n, C, n, min_signers);
    TRY(refreshed_verifying_shares(new_verifying_shares, C + min_signers * (n + 1),
                                   C + min_signers * n, min_signers, identifiers, n));
done:
    free(bad);
    free(C);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(new_verifying_shares, PB * n_out);
    }
    return rc;
}

int frost_refresh_finish(unsigned char *new_signing_share, unsigned char *new_verifying_shares,
                         uint32_t *culprits, size_t *n_culprits,
                         uint32_t identifier, const unsigned char *signing_share,
                         const uint32_t *identifiers, const unsigned char *verifying_shares,
                         size_t n, const unsigned char *commitments, const unsigned char *shares,
                         size_t min_signers) {
    unsigned char s[SB], d[SB], *bad = NULL;
    vt_point *C = NULL, *S, *Y, Ynew;
    size_t k, own, n_out = 0;
    int rc;

    sodium_memzero(s, sizeof s);
    sodium_memzero(d, sizeof d);
    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(new_signing_share != NULL && new_verifying_shares != NULL && culprits != NULL &&
              n_culprits != NULL && signing_share != NULL && identifiers != NULL &&
              verifying_shares != NULL && commitments != NULL && shares != NULL,
          FROST_ERR_PARAMS);
    TRY(refresh_params(n, min_signers));
    n_out = n;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    CHECK(secret_is_canonical(signing_share), FROST_ERR_BAD_SCALAR);
    bad = malloc(n);
    C = malloc(sizeof *C * (min_signers * (n + 1) + n));
    CHECK(bad != NULL && C != NULL, FROST_ERR_NO_MEMORY);
    S = C + min_signers * n;
    Y = S + min_signers;
    TRY(refresh_common(bad, C, Y, identifiers, verifying_shares, n, commitments, min_signers));
    own = id_index(identifiers, n, identifier);
    CHECK(own < n, FROST_ERR_UNKNOWN_IDENTIFIER);
    for (k = 0; k < n; k++) {
        if (!bad[k]) {
            int r = vss_check(identifier, shares + SB * k, C + min_signers * k, min_signers);
            if (r == FROST_ERR_INVALID_SHARE) {
                bad[k] = 1;
            } else {
                TRY(r);
            }
        }
    }
    name_culprits(culprits, n_culprits, bad, identifiers, n);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);

    /* s' = s + sum_k g_k(identifier), which must match Y'_identifier */
    sum_commitments(S, C, n, min_signers);
    sum_secrets(d, shares, n);
    crypto_core_ed25519_scalar_add(s, signing_share, d);
    TRY(refreshed_verifying_shares(new_verifying_shares, Y, S, min_signers, identifiers, n));
    vss_eval(&Ynew, S, min_signers, identifier);
    vt_add(&Ynew, &Ynew, &Y[own]);
    TRY(release_share(new_signing_share, s, &Ynew, FROST_ERR_MISMATCH));
done:
    sodium_memzero(s, sizeof s);
    sodium_memzero(d, sizeof d);
    free(bad);
    free(C);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(new_signing_share, SB);
        sodium_memzero(new_verifying_shares, PB * n_out);
    }
    return rc;
}

/* ---- reshare: the same secret to a new set with a new threshold --------- */

static int reshare_params(size_t min_signers, const uint32_t *signers, size_t n_signers,
                          const uint32_t *new_ids, size_t new_n, size_t new_t) {
    int rc;
    CHECK(min_signers >= 2 && n_signers >= min_signers && n_signers <= FROST_MAX_PARTICIPANTS,
          FROST_ERR_PARAMS);
    CHECK(new_t >= 2 && new_t <= new_n && new_n <= FROST_MAX_PARTICIPANTS, FROST_ERR_PARAMS);
    TRY(check_identifiers(signers, n_signers));
    TRY(check_identifiers(new_ids, new_n));
done:
    return rc;
}

int frost_reshare_deal(unsigned char *shares, unsigned char *commitment,
                       uint32_t identifier, const unsigned char *signing_share,
                       size_t min_signers, const uint32_t *signers, size_t n_signers,
                       const uint32_t *new_identifiers, size_t new_n, size_t new_min_signers) {
    unsigned char *coeffs = NULL, lambda[SB];
    size_t i, n_out = 0, t_out = 0;
    int rc;

    TRY(ensure_init());
    CHECK(shares != NULL && commitment != NULL && signing_share != NULL && signers != NULL &&
              new_identifiers != NULL, FROST_ERR_PARAMS);
    TRY(reshare_params(min_signers, signers, n_signers, new_identifiers, new_n, new_min_signers));
    n_out = new_n;
    t_out = new_min_signers;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    i = id_index(signers, n_signers, identifier);
    CHECK(i < n_signers, FROST_ERR_UNKNOWN_IDENTIFIER);
    CHECK(secret_is_canonical_nonzero(signing_share), FROST_ERR_BAD_SCALAR);
    coeffs = malloc(SB * new_min_signers);
    CHECK(coeffs != NULL, FROST_ERR_NO_MEMORY);
    random_coefficients(coeffs, new_min_signers);
    /* a_0 = lambda_i * s_i: the old shares of the signers interpolate to the
     * secret, so the new polynomials sum to a polynomial whose a_0 is it */
    TRY(lagrange_one(lambda, signers, n_signers, i, 0));
    crypto_core_ed25519_scalar_mul(coeffs, lambda, signing_share);
    TRY(deal(shares, commitment, coeffs, 0, new_identifiers, new_n, new_min_signers));
done:
    if (coeffs != NULL) {
        sodium_memzero(coeffs, SB * new_min_signers);
        free(coeffs);
    }
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(shares, SB * n_out);
        sodium_memzero(commitment, PB * t_out);
    }
    return rc;
}

/* Checks common to the reshare entry points: every dealer's commitment
 * (decoded into C, n_signers x new_t) is well formed and its constant term
 * is [lambda_k]Y_k; else bad[k] = 1. */
static int reshare_common(unsigned char *bad, vt_point *C,
                          const uint32_t *signers, const unsigned char *signer_verifying_shares,
                          size_t n_signers, const unsigned char *commitments, size_t new_t) {
    unsigned char *lambda = NULL;
    vt_point *Y = NULL, expect;
    size_t k;
    int rc;

    lambda = malloc(3 * SB * n_signers);
    Y = malloc(sizeof *Y * n_signers);
    CHECK(lambda != NULL && Y != NULL, FROST_ERR_NO_MEMORY);
    TRY(decode_points(Y, signer_verifying_shares, n_signers));
    TRY(lagrange_all(lambda, lambda + SB * n_signers, lambda + 2 * SB * n_signers, signers,
                     n_signers));
    decode_dealings(bad, C, commitments, n_signers, new_t, 0);
    for (k = 0; k < n_signers; k++) {
        if (!bad[k]) {
            TRY(point_mul(&expect, lambda + SB * k, &Y[k]));
            bad[k] = !vt_equal(&C[new_t * k], &expect);
        }
    }
done:
    free(lambda);
    free(Y);
    return rc;
}

/* The summed constant term must be the group key: fails only if the old
 * verifying shares do not interpolate to it. */
static int reshare_key_kept(const vt_point *S, const unsigned char *group_public_key) {
    vt_point PK;
    int rc;
    TRY(decode_point(&PK, group_public_key));
    CHECK(vt_equal(&S[0], &PK), FROST_ERR_MISMATCH);
done:
    return rc;
}

int frost_reshare_public_key_package(unsigned char *new_verifying_shares,
                                     uint32_t *culprits, size_t *n_culprits,
                                     const unsigned char *group_public_key, size_t min_signers,
                                     const uint32_t *signers,
                                     const unsigned char *signer_verifying_shares,
                                     size_t n_signers,
                                     const uint32_t *new_identifiers, size_t new_n,
                                     const unsigned char *commitments, size_t new_min_signers) {
    unsigned char *bad = NULL;
    vt_point *C = NULL;
    size_t n_out = 0;
    int rc;

    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(new_verifying_shares != NULL && culprits != NULL && n_culprits != NULL &&
              group_public_key != NULL && signers != NULL && signer_verifying_shares != NULL &&
              new_identifiers != NULL && commitments != NULL, FROST_ERR_PARAMS);
    TRY(reshare_params(min_signers, signers, n_signers, new_identifiers, new_n, new_min_signers));
    n_out = new_n;
    bad = malloc(n_signers);
    C = malloc(sizeof *C * new_min_signers * (n_signers + 1));
    CHECK(bad != NULL && C != NULL, FROST_ERR_NO_MEMORY);
    TRY(reshare_common(bad, C, signers, signer_verifying_shares, n_signers, commitments,
                       new_min_signers));
    name_culprits(culprits, n_culprits, bad, signers, n_signers);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);
    sum_commitments(C + new_min_signers * n_signers, C, n_signers, new_min_signers);
    TRY(reshare_key_kept(C + new_min_signers * n_signers, group_public_key));
    TRY(verifying_shares_of(new_verifying_shares, C + new_min_signers * n_signers,
                            new_min_signers, new_identifiers, new_n));
done:
    free(bad);
    free(C);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(new_verifying_shares, PB * n_out);
    }
    return rc;
}

int frost_reshare_finish(unsigned char *new_signing_share, unsigned char *new_verifying_shares,
                         uint32_t *culprits, size_t *n_culprits, uint32_t identifier,
                         const unsigned char *group_public_key, size_t min_signers,
                         const uint32_t *signers, const unsigned char *signer_verifying_shares,
                         size_t n_signers, const uint32_t *new_identifiers, size_t new_n,
                         const unsigned char *commitments, const unsigned char *shares,
                         size_t new_min_signers) {
    unsigned char s[SB], *bad = NULL;
    vt_point *C = NULL, *S, Ynew;
    size_t k, n_out = 0;
    int rc;

    sodium_memzero(s, sizeof s);
    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(new_signing_share != NULL && new_verifying_shares != NULL && culprits != NULL &&
              n_culprits != NULL && group_public_key != NULL && signers != NULL &&
              signer_verifying_shares != NULL && new_identifiers != NULL &&
              commitments != NULL && shares != NULL, FROST_ERR_PARAMS);
    TRY(reshare_params(min_signers, signers, n_signers, new_identifiers, new_n, new_min_signers));
    n_out = new_n;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    CHECK(id_index(new_identifiers, new_n, identifier) < new_n, FROST_ERR_UNKNOWN_IDENTIFIER);
    bad = malloc(n_signers);
    C = malloc(sizeof *C * new_min_signers * (n_signers + 1));
    CHECK(bad != NULL && C != NULL, FROST_ERR_NO_MEMORY);
    S = C + new_min_signers * n_signers;
    TRY(reshare_common(bad, C, signers, signer_verifying_shares, n_signers, commitments,
                       new_min_signers));
    for (k = 0; k < n_signers; k++) {
        if (!bad[k]) {
            int r = vss_check(identifier, shares + SB * k, C + new_min_signers * k,
                              new_min_signers);
            if (r == FROST_ERR_INVALID_SHARE) {
                bad[k] = 1;
            } else {
                TRY(r);
            }
        }
    }
    name_culprits(culprits, n_culprits, bad, signers, n_signers);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);
    sum_commitments(S, C, n_signers, new_min_signers);
    TRY(reshare_key_kept(S, group_public_key));
    TRY(verifying_shares_of(new_verifying_shares, S, new_min_signers, new_identifiers, new_n));

    sum_secrets(s, shares, n_signers);
    vss_eval(&Ynew, S, new_min_signers, identifier);
    /* implied by the checks above */
    TRY(release_share(new_signing_share, s, &Ynew, FROST_ERR_INTERNAL));
done:
    sodium_memzero(s, sizeof s);
    free(bad);
    free(C);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(new_signing_share, SB);
        sodium_memzero(new_verifying_shares, PB * n_out);
    }
    return rc;
}

/* ---- repair: helpers restore a lost member's share (RTS) ----------------- */

static int repair_params(size_t min_signers, const uint32_t *helpers, size_t n_helpers,
                         uint32_t lost) {
    int rc;
    CHECK(min_signers >= 2 && n_helpers >= min_signers && n_helpers <= FROST_MAX_PARTICIPANTS,
          FROST_ERR_PARAMS);
    CHECK(lost != 0, FROST_ERR_ZERO_IDENTIFIER);
    TRY(check_identifiers(helpers, n_helpers));
    CHECK(id_index(helpers, n_helpers, lost) == n_helpers, FROST_ERR_DUPLICATE_IDENTIFIER);
done:
    return rc;
}

int frost_repair_part1(unsigned char *deltas, unsigned char *delta_commitments,
                       uint32_t identifier, const unsigned char *signing_share,
                       size_t min_signers, const uint32_t *helpers, size_t n_helpers,
                       uint32_t lost_identifier) {
    unsigned char zeta[SB], sum[SB], target[SB];
    size_t i, k, n_out = 0;
    int rc;

    sodium_memzero(sum, sizeof sum);
    sodium_memzero(target, sizeof target);
    TRY(ensure_init());
    CHECK(deltas != NULL && delta_commitments != NULL && signing_share != NULL &&
              helpers != NULL, FROST_ERR_PARAMS);
    TRY(repair_params(min_signers, helpers, n_helpers, lost_identifier));
    n_out = n_helpers;
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    i = id_index(helpers, n_helpers, identifier);
    CHECK(i < n_helpers, FROST_ERR_UNKNOWN_IDENTIFIER);
    CHECK(secret_is_canonical_nonzero(signing_share), FROST_ERR_BAD_SCALAR);

    /* zeta_i * s_i, split into n_helpers random deltas (the last one fixed
     * by the others), one for each helper */
    TRY(lagrange_one(zeta, helpers, n_helpers, i, lost_identifier));
    crypto_core_ed25519_scalar_mul(target, zeta, signing_share);
    random_coefficients(deltas, n_helpers - 1);
    sum_secrets(sum, deltas, n_helpers - 1);
    crypto_core_ed25519_scalar_sub(deltas + SB * (n_helpers - 1), target, sum);
    for (k = 0; k < n_helpers; k++) {
        TRY(base_mul_secret(delta_commitments + PB * k, deltas + SB * k));
    }
done:
    sodium_memzero(sum, sizeof sum);
    sodium_memzero(target, sizeof target);
    if (rc != FROST_OK && n_out != 0) {
        sodium_memzero(deltas, SB * n_out);
        sodium_memzero(delta_commitments, PB * n_out);
    }
    return rc;
}

/* Every helper's row of delta commitments (h points) is well formed and
 * sums to [zeta_k]Y_k; else bad[k] = 1.  D gets the decoded rows. */
static int repair_rows(unsigned char *bad, vt_point *D, const uint32_t *helpers,
                       const unsigned char *helper_verifying_shares, size_t h, uint32_t lost,
                       const unsigned char *delta_commitments) {
    unsigned char zeta[SB];
    vt_point Y, expect, sum;
    size_t j, k;
    int rc = FROST_OK;

    for (k = 0; k < h; k++) {
        TRY(decode_point(&Y, helper_verifying_shares + PB * k));
        bad[k] = decode_points(D + h * k, delta_commitments + PB * h * k, h) != FROST_OK;
        if (bad[k]) {
            continue;
        }
        TRY(lagrange_one(zeta, helpers, h, k, lost));
        TRY(point_mul(&expect, zeta, &Y));
        sum = D[h * k];
        for (j = 1; j < h; j++) {
            vt_add(&sum, &sum, &D[h * k + j]);
        }
        bad[k] = !vt_equal(&sum, &expect);
    }
done:
    return rc;
}

int frost_repair_part2(unsigned char *sigma, uint32_t *culprits, size_t *n_culprits,
                       uint32_t identifier, size_t min_signers, const uint32_t *helpers,
                       const unsigned char *helper_verifying_shares, size_t n_helpers,
                       uint32_t lost_identifier, const unsigned char *delta_commitments,
                       const unsigned char *deltas) {
    unsigned char *bad = NULL;
    vt_point *D = NULL;
    size_t i, k;
    int match, rc;

    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(sigma != NULL && culprits != NULL && n_culprits != NULL && helpers != NULL &&
              helper_verifying_shares != NULL && delta_commitments != NULL && deltas != NULL,
          FROST_ERR_PARAMS);
    TRY(repair_params(min_signers, helpers, n_helpers, lost_identifier));
    CHECK(identifier != 0, FROST_ERR_ZERO_IDENTIFIER);
    i = id_index(helpers, n_helpers, identifier);
    CHECK(i < n_helpers, FROST_ERR_UNKNOWN_IDENTIFIER);
    bad = malloc(n_helpers);
    D = malloc(sizeof *D * n_helpers * n_helpers);
    CHECK(bad != NULL && D != NULL, FROST_ERR_NO_MEMORY);
    TRY(repair_rows(bad, D, helpers, helper_verifying_shares, n_helpers, lost_identifier,
                    delta_commitments));
    /* the delta from helper k matches its row's commitment for us */
    for (k = 0; k < n_helpers; k++) {
        if (!bad[k]) {
            if (!secret_is_canonical_nonzero(deltas + SB * k)) {
                bad[k] = 1;
                continue;
            }
            TRY(secret_matches(&match, deltas + SB * k, &D[n_helpers * k + i]));
            bad[k] = !match;
        }
    }
    name_culprits(culprits, n_culprits, bad, helpers, n_helpers);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);
    sum_secrets(sigma, deltas, n_helpers);
done:
    free(bad);
    free(D);
    if (rc != FROST_OK && sigma != NULL) {
        sodium_memzero(sigma, SB);
    }
    return rc;
}

int frost_repair_part3(unsigned char *signing_share, uint32_t *culprits, size_t *n_culprits,
                       uint32_t lost_identifier, const unsigned char *verifying_share,
                       size_t min_signers, const uint32_t *helpers,
                       const unsigned char *helper_verifying_shares, size_t n_helpers,
                       const unsigned char *delta_commitments, const unsigned char *sigmas) {
    unsigned char s[SB], *bad = NULL;
    vt_point *D = NULL, Y, col;
    size_t j, k;
    int match, rc;

    sodium_memzero(s, sizeof s);
    if (n_culprits != NULL) {
        *n_culprits = 0;
    }
    TRY(ensure_init());
    CHECK(signing_share != NULL && culprits != NULL && n_culprits != NULL &&
              verifying_share != NULL && helpers != NULL && helper_verifying_shares != NULL &&
              delta_commitments != NULL && sigmas != NULL, FROST_ERR_PARAMS);
    TRY(repair_params(min_signers, helpers, n_helpers, lost_identifier));
    TRY(decode_point(&Y, verifying_share));
    bad = malloc(n_helpers);
    D = malloc(sizeof *D * n_helpers * n_helpers);
    CHECK(bad != NULL && D != NULL, FROST_ERR_NO_MEMORY);
    TRY(repair_rows(bad, D, helpers, helper_verifying_shares, n_helpers, lost_identifier,
                    delta_commitments));
    name_culprits(culprits, n_culprits, bad, helpers, n_helpers);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);
    /* helper j's sigma is the sum of column j */
    for (j = 0; j < n_helpers; j++) {
        col = D[j];
        for (k = 1; k < n_helpers; k++) {
            vt_add(&col, &col, &D[n_helpers * k + j]);
        }
        if (!secret_is_canonical_nonzero(sigmas + SB * j)) {
            bad[j] = 1;
            continue;
        }
        TRY(secret_matches(&match, sigmas + SB * j, &col));
        bad[j] = !match;
    }
    name_culprits(culprits, n_culprits, bad, helpers, n_helpers);
    CHECK(*n_culprits == 0, FROST_ERR_INVALID_SHARE);
    sum_secrets(s, sigmas, n_helpers);
    TRY(release_share(signing_share, s, &Y, FROST_ERR_MISMATCH));
done:
    sodium_memzero(s, sizeof s);
    free(bad);
    free(D);
    if (rc != FROST_OK && signing_share != NULL) {
        sodium_memzero(signing_share, SB);
    }
    return rc;
}
