/* test_frost.c - the FROST C library against RFC 9591 Appendix E.1, a DKG,
 * a signing round, and negative cases.  Usage: test_frost VECTOR.json
 * Exits 0 when every check passes, 1 otherwise.  Run under valgrind by
 * `make test-c`.
 *
 * Built with -DFROST_CTGRIND (library and test), it instead runs the
 * constant-time check: secrets are marked undefined and valgrind must report
 * no branch or memory index depending on them:
 *   cc -DFROST_CTGRIND -Isuites/frost -o /tmp/test_frost_ct tests/c/test_frost.c \
 *      suites/frost/frost.c -lsodium && valgrind -q --error-exitcode=1 /tmp/test_frost_ct
 */
#include "frost.h"
#include "ed25519_vt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define EXPECT(cond)                                                           \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                      \
    } while (0)

#define EXPECT_RC(expr, want)                                                  \
    do {                                                                       \
        int got_ = (expr);                                                     \
        checks++;                                                              \
        if (got_ != (want)) {                                                  \
            failures++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s = %d (%s), want %s\n", __FILE__,   \
                    __LINE__, #expr, got_, frost_strerror(got_), #want);       \
        }                                                                      \
    } while (0)

/* ---- minimal reading of the vector file --------------------------------- */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)len + 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL) {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Find "key": after *pos, decode its hex string value into out (exactly
 * out_len bytes), move *pos past it.  Returns 0 on success. */
static int json_hex(const char **pos, const char *key, unsigned char *out, size_t out_len) {
    char pattern[64];
    const char *p, *q;
    size_t bin_len = 0;
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    p = strstr(*pos, pattern);
    if (p == NULL || (p = strchr(p + strlen(pattern), '"')) == NULL) {
        return -1;
    }
    p++;
    q = strchr(p, '"');
    if (q == NULL || sodium_hex2bin(out, out_len, p, (size_t)(q - p), NULL, &bin_len, NULL) != 0 ||
        bin_len != out_len) {
        return -1;
    }
    *pos = q + 1;
    return 0;
}

/* Find "key": after *pos and read its integer value. */
static int json_int(const char **pos, const char *key, unsigned long *out) {
    char pattern[64];
    const char *p;
    char *end;
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    p = strstr(*pos, pattern);
    if (p == NULL || (p = strchr(p, ':')) == NULL) {
        return -1;
    }
    *out = strtoul(p + 1, &end, 10);
    *pos = end;
    return 0;
}

typedef struct {
    unsigned char secret[32], pk[32], msg[4], coeff[32];
    unsigned char shares[3][32];
    unsigned long signer_ids[2];
    unsigned char hiding_rand[2][32], binding_rand[2][32], hiding[2][32], binding[2][32];
    unsigned char hiding_com[2][32], binding_com[2][32];
    unsigned char rho_input[2][FROST_BINDING_INPUT_BYTES], rho[2][32];
    unsigned char sig_share[2][32], sig[64];
} vector;

static int load_vector(const char *path, vector *v) {
    char *json = read_file(path);
    const char *p;
    unsigned char digest[32];
    static const char *want_sha256 =
        "1aa27908efa7f9388c4145059021fe71db971613bfd1f27467b1bb2da5d95c9c";
    char hex[65];
    unsigned long id;
    int k, rc = -1;

    if (json == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    crypto_hash_sha256(digest, (const unsigned char *)json, strlen(json));
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    if (strcmp(hex, want_sha256) != 0) {
        fprintf(stderr, "%s: sha256 %s, want %s\n", path, hex, want_sha256);
        goto done;
    }
    p = json;
    if (json_hex(&p, "group_secret_key", v->secret, 32) || json_hex(&p, "group_public_key", v->pk, 32) ||
        json_hex(&p, "message", v->msg, 4) ||
        json_hex(&p, "share_polynomial_coefficients", v->coeff, 32)) {
        goto done;
    }
    for (k = 0; k < 3; k++) {
        if (json_int(&p, "identifier", &id) || id != (unsigned long)(k + 1) ||
            json_hex(&p, "participant_share", v->shares[k], 32)) {
            goto done;
        }
    }
    p = strstr(p, "round_one_outputs");
    for (k = 0; p != NULL && k < 2; k++) {
        if (json_int(&p, "identifier", &v->signer_ids[k]) ||
            json_hex(&p, "hiding_nonce_randomness", v->hiding_rand[k], 32) ||
            json_hex(&p, "binding_nonce_randomness", v->binding_rand[k], 32) ||
            json_hex(&p, "hiding_nonce", v->hiding[k], 32) ||
            json_hex(&p, "binding_nonce", v->binding[k], 32) ||
            json_hex(&p, "hiding_nonce_commitment", v->hiding_com[k], 32) ||
            json_hex(&p, "binding_nonce_commitment", v->binding_com[k], 32) ||
            json_hex(&p, "binding_factor_input", v->rho_input[k], FROST_BINDING_INPUT_BYTES) ||
            json_hex(&p, "binding_factor", v->rho[k], 32)) {
            goto done;
        }
    }
    p = p != NULL ? strstr(p, "round_two_outputs") : NULL;
    for (k = 0; p != NULL && k < 2; k++) {
        if (json_int(&p, "identifier", &id) || id != v->signer_ids[k] ||
            json_hex(&p, "sig_share", v->sig_share[k], 32)) {
            goto done;
        }
    }
    if (p != NULL && json_hex(&p, "sig", v->sig, 64) == 0 && v->signer_ids[0] == 1 &&
        v->signer_ids[1] == 3) {
        rc = 0;
    }
done:
    if (rc != 0) {
        fprintf(stderr, "%s: not the expected RFC 9591 E.1 vector\n", path);
    }
    free(json);
    return rc;
}

/* ---- the RFC 9591 E.1 vector, step by step -------------------------------- */

static void test_vector(const vector *v) {
    const uint32_t ids[3] = {1, 2, 3};
    unsigned char shares[3 * 32], vss[2 * 32], pk[32], ver[3 * 32], pk2[32];
    frost_nonces nonces[2];
    frost_commitment list[2];
    unsigned char rho[2 * 32], rho_input[2 * FROST_BINDING_INPUT_BYTES];
    unsigned char z[2 * 32], yv[2 * 32], sig[64];
    uint32_t culprits[2];
    size_t n_culprits = 99;
    int k;

    /* dealer: shares from the given polynomial */
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, ids, 3, 2, v->secret, v->coeff), FROST_OK);
    EXPECT(memcmp(pk, v->pk, 32) == 0);
    for (k = 0; k < 3; k++) {
        EXPECT(memcmp(shares + 32 * k, v->shares[k], 32) == 0);
        EXPECT_RC(frost_vss_verify(ids[k], shares + 32 * k, vss, 2), FROST_OK);
    }
    EXPECT_RC(frost_public_key_package(pk2, ver, ids, 3, vss, 1, 2), FROST_OK);
    EXPECT(memcmp(pk2, v->pk, 32) == 0);

    /* round one from the given randomness */
    for (k = 0; k < 2; k++) {
        uint32_t id = (uint32_t)v->signer_ids[k];
        EXPECT_RC(frost_commit(&nonces[k], &list[k], id, v->shares[id - 1], v->hiding_rand[k],
                               v->binding_rand[k]), FROST_OK);
        EXPECT(list[k].identifier == id);
        EXPECT(memcmp(nonces[k].hiding, v->hiding[k], 32) == 0);
        EXPECT(memcmp(nonces[k].binding, v->binding[k], 32) == 0);
        EXPECT(memcmp(list[k].hiding, v->hiding_com[k], 32) == 0);
        EXPECT(memcmp(list[k].binding, v->binding_com[k], 32) == 0);
        memcpy(yv + 32 * k, ver + 32 * (id - 1), 32);
    }

    /* binding factors */
    EXPECT_RC(frost_binding_factors(rho, rho_input, v->pk, list, 2, v->msg, 4), FROST_OK);
    for (k = 0; k < 2; k++) {
        EXPECT(memcmp(rho_input + FROST_BINDING_INPUT_BYTES * k, v->rho_input[k],
                      FROST_BINDING_INPUT_BYTES) == 0);
        EXPECT(memcmp(rho + 32 * k, v->rho[k], 32) == 0);
    }

    /* round two */
    for (k = 0; k < 2; k++) {
        uint32_t id = (uint32_t)v->signer_ids[k];
        frost_nonces copy = nonces[k];
        EXPECT_RC(frost_sign(z + 32 * k, &nonces[k], v->msg, 4, list, 2, id, v->shares[id - 1],
                             v->pk, 2), FROST_OK);
        EXPECT(memcmp(z + 32 * k, v->sig_share[k], 32) == 0);
        EXPECT(sodium_is_zero((const unsigned char *)&nonces[k], sizeof nonces[k]));
        /* nonces are wiped: a second sign fails */
        EXPECT_RC(frost_sign(z + 32 * k, &nonces[k], v->msg, 4, list, 2, id, v->shares[id - 1],
                             v->pk, 2), FROST_ERR_BAD_NONCES);
        memcpy(z + 32 * k, v->sig_share[k], 32);
        EXPECT_RC(frost_verify_signature_share(id, z + 32 * k, yv + 32 * k, v->msg, 4, list, 2,
                                               v->pk), FROST_OK);
        sodium_memzero(&copy, sizeof copy);
    }

    /* aggregate and verify, also as a plain RFC 8032 signature */
    EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, v->msg, 4, list, 2, z, yv, v->pk, 2),
              FROST_OK);
    EXPECT(n_culprits == 0);
    EXPECT(memcmp(sig, v->sig, 64) == 0);
    EXPECT_RC(frost_verify(sig, v->msg, 4, v->pk), FROST_OK);
    EXPECT(crypto_sign_verify_detached(sig, v->msg, 4, v->pk) == 0);

    /* a bad share names its signer */
    z[32 + 5] ^= 1;
    EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, v->msg, 4, list, 2, z, yv, v->pk, 2),
              FROST_ERR_INVALID_SIGNATURE_SHARE);
    EXPECT(n_culprits == 1 && culprits[0] == 3);
    EXPECT(sodium_is_zero(sig, 64));
    EXPECT_RC(frost_verify_signature_share(3, z + 32, yv + 32, v->msg, 4, list, 2, v->pk),
              FROST_ERR_INVALID_SIGNATURE_SHARE);
    z[6] ^= 1;
    EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, v->msg, 4, list, 2, z, yv, v->pk, 2),
              FROST_ERR_INVALID_SIGNATURE_SHARE);
    EXPECT(n_culprits == 2 && culprits[0] == 1 && culprits[1] == 3);
    /* aggregate checks the shares one by one only when the signature fails:
     * two shares shifted by opposite amounts still make the valid signature */
    memcpy(z, v->sig_share[0], 32);
    memcpy(z + 32, v->sig_share[1], 32);
    {
        unsigned char delta[32] = {0x39, 0x30}, t[32];
        crypto_core_ed25519_scalar_add(t, z, delta);
        memcpy(z, t, 32);
        crypto_core_ed25519_scalar_sub(t, z + 32, delta);
        memcpy(z + 32, t, 32);
    }
    EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, v->msg, 4, list, 2, z, yv, v->pk, 2),
              FROST_OK);
    EXPECT(memcmp(sig, v->sig, 64) == 0);
    EXPECT_RC(frost_verify_signature_share(1, z, yv, v->msg, 4, list, 2, v->pk),
              FROST_ERR_INVALID_SIGNATURE_SHARE);

    /* a modified signature or message does not verify */
    memcpy(sig, v->sig, 64);
    sig[40] ^= 1;
    EXPECT_RC(frost_verify(sig, v->msg, 4, v->pk), FROST_ERR_INVALID_SIGNATURE);
    EXPECT_RC(frost_verify(v->sig, (const unsigned char *)"tesT", 4, v->pk),
              FROST_ERR_INVALID_SIGNATURE);
}

/* ---- validation ----------------------------------------------------------- */

static void test_validation(const vector *v) {
    static const unsigned char order_l[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    /* a point of order 8 */
    static const unsigned char order8[32] = {
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
        0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};
    unsigned char identity[32] = {1}, scalar[32], torsioned[32], noncanon[32], out[32];
    unsigned char z[32], sig[64];
    frost_commitment list[2];
    frost_nonces nonces;
    uint32_t culprits[2];
    size_t n_culprits;
    const uint32_t dup_ids[3] = {1, 1, 2}, unsorted_ids[3] = {2, 1, 3}, zero_ids[3] = {0, 1, 2};
    unsigned char shares[3 * 32], vss[3 * 32], pk[32];

    EXPECT_RC(frost_validate_point(v->pk), FROST_OK);
    EXPECT_RC(frost_validate_point(identity), FROST_ERR_BAD_POINT);
    EXPECT_RC(frost_validate_point(order8), FROST_ERR_BAD_POINT);
    EXPECT(crypto_core_ed25519_add(torsioned, v->pk, order8) == 0);
    EXPECT_RC(frost_validate_point(torsioned), FROST_ERR_BAD_POINT);
    /* non-canonical: y = p + 1 (the identity's y, unreduced) */
    memset(noncanon, 0xff, 32);
    noncanon[0] = 0xee;
    noncanon[31] = 0x7f;
    EXPECT_RC(frost_validate_point(noncanon), FROST_ERR_BAD_POINT);
    noncanon[0] = 0xf0; /* y = p + 3: on the curve, encoded unreduced */
    EXPECT(crypto_core_ed25519_add(out, noncanon, noncanon) == 0);
    EXPECT_RC(frost_validate_point(noncanon), FROST_ERR_BAD_POINT);

    EXPECT_RC(frost_validate_scalar(order_l), FROST_ERR_BAD_SCALAR);
    memcpy(scalar, order_l, 32);
    scalar[0]--; /* L - 1 */
    EXPECT_RC(frost_validate_scalar(scalar), FROST_OK);
    memset(scalar, 0xff, 32);
    EXPECT_RC(frost_validate_scalar(scalar), FROST_ERR_BAD_SCALAR);

    /* dealer parameters and identifiers */
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, dup_ids, 3, 2, NULL, NULL),
              FROST_ERR_DUPLICATE_IDENTIFIER);
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, unsorted_ids, 3, 2, NULL, NULL),
              FROST_ERR_UNSORTED_IDENTIFIERS);
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, zero_ids, 3, 2, NULL, NULL),
              FROST_ERR_ZERO_IDENTIFIER);
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, dup_ids, 3, 1, NULL, NULL), FROST_ERR_PARAMS);
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, dup_ids, 2, 3, NULL, NULL), FROST_ERR_PARAMS);
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, zero_ids + 1, 2, 2, order_l, NULL),
              FROST_ERR_BAD_SCALAR);
    EXPECT_RC(frost_vss_verify(2, v->shares[0], vss, 2), FROST_ERR_BAD_POINT); /* zeroed */

    /* commitment lists */
    EXPECT_RC(frost_commit(&nonces, &list[0], 1, v->shares[0], NULL, NULL), FROST_OK);
    EXPECT_RC(frost_commit(&nonces, &list[1], 3, v->shares[2], NULL, NULL), FROST_OK);
    EXPECT_RC(frost_commit(&nonces, &list[1], 0, v->shares[2], NULL, NULL),
              FROST_ERR_ZERO_IDENTIFIER);
    EXPECT_RC(frost_commit(&nonces, &list[1], 3, order_l, NULL, NULL), FROST_ERR_BAD_SCALAR);
    EXPECT_RC(frost_commit(&nonces, &list[1], 3, v->shares[2], NULL, NULL), FROST_OK);
    EXPECT_RC(frost_verify_signature_share(2, v->sig_share[0], v->pk, v->msg, 4, list, 2, v->pk),
              FROST_ERR_UNKNOWN_IDENTIFIER);
    EXPECT_RC(frost_sign(z, &nonces, v->msg, 4, list, 2, 2, v->shares[1], v->pk, 2),
              FROST_ERR_UNKNOWN_IDENTIFIER);
    EXPECT(sodium_is_zero((const unsigned char *)&nonces, sizeof nonces));
    list[1].identifier = 1;
    EXPECT_RC(frost_binding_factors(z, NULL, v->pk, list, 2, v->msg, 4),
              FROST_ERR_DUPLICATE_IDENTIFIER);
    list[0].identifier = 3;
    EXPECT_RC(frost_binding_factors(z, NULL, v->pk, list, 2, v->msg, 4),
              FROST_ERR_UNSORTED_IDENTIFIERS);
    list[0].identifier = 0;
    EXPECT_RC(frost_binding_factors(z, NULL, v->pk, list, 2, v->msg, 4),
              FROST_ERR_ZERO_IDENTIFIER);
    list[0].identifier = 1;
    list[1].identifier = 3;
    EXPECT_RC(frost_binding_factors(z, NULL, v->pk, list, 2, v->msg, 4), FROST_OK);
    memcpy(list[1].binding, identity, 32);
    EXPECT_RC(frost_binding_factors(z, NULL, v->pk, list, 2, v->msg, 4), FROST_ERR_BAD_POINT);
    memcpy(list[1].binding, torsioned, 32);
    EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, v->msg, 4, list, 2, z, z, v->pk, 2),
              FROST_ERR_BAD_POINT);
    EXPECT_RC(frost_binding_factors(z, NULL, identity, list, 2, v->msg, 4), FROST_ERR_BAD_POINT);

    /* signature encoding */
    memcpy(sig, v->sig, 64);
    memcpy(sig + 32, order_l, 32); /* z >= L */
    EXPECT_RC(frost_verify(sig, v->msg, 4, v->pk), FROST_ERR_INVALID_SIGNATURE);
    memcpy(sig, v->sig, 64);
    EXPECT(crypto_core_ed25519_add(sig, v->sig, order8) == 0); /* R + torsion */
    EXPECT_RC(frost_verify(sig, v->msg, 4, v->pk), FROST_ERR_INVALID_SIGNATURE);
    EXPECT_RC(frost_verify(v->sig, v->msg, 4, torsioned), FROST_ERR_BAD_POINT);
    (void)out;
}

/* ---- DKG and a signing round ----------------------------------------------- */

#define DKG_N 5
#define DKG_T 3

static void test_dkg(void) {
    static const uint32_t ids[DKG_N] = {1, 7, 300, 1000, 70000};
    static const unsigned char ctx[] = "ceremony-0001";
    const size_t ctx_len = sizeof ctx - 1;
    unsigned char coeffs[DKG_N][DKG_T * 32], comm[DKG_N * DKG_T * 32], proof[DKG_N][64];
    unsigned char sent[DKG_N][DKG_N * 32]; /* sent[i][k]: from i to ids[k] */
    unsigned char own[DKG_N][32], signing[DKG_N][32], pk[DKG_N][32], ver[DKG_N][DKG_N * 32];
    uint32_t culprits[DKG_N];
    size_t n_culprits;
    int i, k;

    for (i = 0; i < DKG_N; i++) {
        EXPECT_RC(frost_dkg_part1(coeffs[i], comm + DKG_T * 32 * i, proof[i], ids[i], DKG_N, DKG_T,
                                  ctx, ctx_len), FROST_OK);
        EXPECT_RC(frost_dkg_verify_proof(ids[i], comm + DKG_T * 32 * i, DKG_T, proof[i], ctx,
                                         ctx_len), FROST_OK);
    }
    /* the proof is bound to the context and to the identifier */
    EXPECT_RC(frost_dkg_verify_proof(ids[0], comm, DKG_T, proof[0], ctx, ctx_len - 1),
              FROST_ERR_INVALID_PROOF);
    EXPECT_RC(frost_dkg_verify_proof(ids[1], comm, DKG_T, proof[0], ctx, ctx_len),
              FROST_ERR_INVALID_PROOF);

    /* round 2: each participant sees the others' round-1 packages */
    for (i = 0; i < DKG_N; i++) {
        uint32_t peer_ids[DKG_N - 1];
        unsigned char peer_comm[(DKG_N - 1) * DKG_T * 32], peer_proofs[(DKG_N - 1) * 64];
        unsigned char out[(DKG_N - 1) * 32];
        int m = 0;
        for (k = 0; k < DKG_N; k++) {
            if (k == i) {
                continue;
            }
            peer_ids[m] = ids[k];
            memcpy(peer_comm + DKG_T * 32 * m, comm + DKG_T * 32 * k, DKG_T * 32);
            memcpy(peer_proofs + 64 * m, proof[k], 64);
            m++;
        }
        if (i == 0) { /* a bad proof from ids[2] and ids[4] is named */
            peer_proofs[64 * 1 + 40] ^= 1;
            peer_comm[DKG_T * 32 * 3 + 1] ^= 1;
            EXPECT_RC(frost_dkg_part2(out, own[i], culprits, &n_culprits, ids[i], coeffs[i], DKG_T,
                                      peer_ids, peer_comm, peer_proofs, DKG_N - 1, ctx, ctx_len),
                      FROST_ERR_INVALID_PROOF);
            EXPECT(n_culprits == 2 && culprits[0] == 300 && culprits[1] == 70000);
            EXPECT(sodium_is_zero(out, sizeof out) && sodium_is_zero(own[i], 32));
            peer_proofs[64 * 1 + 40] ^= 1;
            peer_comm[DKG_T * 32 * 3 + 1] ^= 1;
        }
        EXPECT_RC(frost_dkg_part2(out, own[i], culprits, &n_culprits, ids[i], coeffs[i], DKG_T,
                                  peer_ids, peer_comm, peer_proofs, DKG_N - 1, ctx, ctx_len),
                  FROST_OK);
        EXPECT(n_culprits == 0);
        m = 0;
        for (k = 0; k < DKG_N; k++) {
            memcpy(sent[i] + 32 * k, k == i ? own[i] : out + 32 * m++, 32);
        }
        sodium_memzero(out, sizeof out);
    }

    /* round 3 */
    for (i = 0; i < DKG_N; i++) {
        unsigned char received[DKG_N * 32];
        for (k = 0; k < DKG_N; k++) {
            memcpy(received + 32 * k, sent[k] + 32 * i, 32);
        }
        if (i == 1) { /* a bad share from ids[3] is named */
            received[32 * 3] ^= 1;
            EXPECT_RC(frost_dkg_part3(signing[i], pk[i], ver[i], culprits, &n_culprits, ids[i], ids,
                                      comm, received, DKG_N, DKG_T), FROST_ERR_INVALID_SHARE);
            EXPECT(n_culprits == 1 && culprits[0] == 1000);
            received[32 * 3] ^= 1;
        }
        EXPECT_RC(frost_dkg_part3(signing[i], pk[i], ver[i], culprits, &n_culprits, ids[i], ids, comm,
                                  received, DKG_N, DKG_T), FROST_OK);
        EXPECT(memcmp(pk[i], pk[0], 32) == 0);
        EXPECT(memcmp(ver[i], ver[0], sizeof ver[0]) == 0);
        sodium_memzero(received, sizeof received);
    }
    {   /* everyone's view from the round-1 commitments alone */
        unsigned char gpk[32], vs[DKG_N * 32];
        EXPECT_RC(frost_public_key_package(gpk, vs, ids, DKG_N, comm, DKG_N, DKG_T), FROST_OK);
        EXPECT(memcmp(gpk, pk[0], 32) == 0 && memcmp(vs, ver[0], sizeof vs) == 0);
    }

    {   /* sign with ids[1], ids[2], ids[4] (7, 300, 70000) */
        static const int who[DKG_T] = {1, 2, 4};
        static const unsigned char msg[] = "release v1.2.3";
        frost_nonces nonces[DKG_T];
        frost_commitment list[DKG_T];
        unsigned char z[DKG_T * 32], yv[DKG_T * 32], sig[64];
        for (k = 0; k < DKG_T; k++) {
            EXPECT_RC(frost_commit(&nonces[k], &list[k], ids[who[k]], signing[who[k]], NULL, NULL),
                      FROST_OK);
            memcpy(yv + 32 * k, ver[0] + 32 * who[k], 32);
        }
        for (k = 0; k < DKG_T; k++) {
            EXPECT_RC(frost_sign(z + 32 * k, &nonces[k], msg, sizeof msg - 1, list, DKG_T,
                                 ids[who[k]], signing[who[k]], pk[0], DKG_T), FROST_OK);
        }
        EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, msg, sizeof msg - 1, list, DKG_T, z,
                                  yv, pk[0], DKG_T), FROST_OK);
        EXPECT_RC(frost_verify(sig, msg, sizeof msg - 1, pk[0]), FROST_OK);
        EXPECT(crypto_sign_verify_detached(sig, msg, sizeof msg - 1, pk[0]) == 0);
        /* fewer than the threshold is refused */
        EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, msg, sizeof msg - 1, list, 2, z, yv,
                                  pk[0], DKG_T), FROST_ERR_PARAMS);
    }
    sodium_memzero(coeffs, sizeof coeffs);
    sodium_memzero(sent, sizeof sent);
    sodium_memzero(own, sizeof own);
    sodium_memzero(signing, sizeof signing);
}

/* ---- the variable-time arithmetic against libsodium ----------------------- */

static void random_point(unsigned char *p) {
    unsigned char s[32];
    crypto_core_ed25519_scalar_random(s);
    if (crypto_scalarmult_ed25519_base_noclamp(p, s) != 0) {
        failures++;
    }
}

static void test_vt(void) {
    static const unsigned char order8[32] = {
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
        0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};
    unsigned char p[32], q[32], r[32], e[32], s[32], torsion[8][32];
    unsigned char sc[40 * 32], pts[40 * 32], acc[32];
    vt_point P, Q, R, many[40];
    int i, k, agree = 0, trials = 0;

    /* the base point, and B + B */
    vt_base(&P);
    vt_encode(e, &P);
    memset(s, 0, 32);
    s[0] = 1;
    EXPECT(crypto_scalarmult_ed25519_base_noclamp(r, s) == 0 && memcmp(e, r, 32) == 0);
    /* the eight points of small order: T8, 2T8, ..., 8T8 = O */
    memcpy(torsion[0], order8, 32);
    for (k = 1; k < 8; k++) {
        EXPECT(crypto_core_ed25519_add(torsion[k], torsion[k - 1], order8) == 0);
    }
    for (k = 0; k < 8; k++) {
        EXPECT(vt_decode(&R, torsion[k]));
        EXPECT(!vt_decode_valid(&R, torsion[k]));
        EXPECT(!crypto_core_ed25519_is_valid_point(torsion[k]));
    }
    for (i = 0; i < 300; i++) {
        random_point(p);
        random_point(q);
        EXPECT(vt_decode_valid(&P, p) && vt_decode_valid(&Q, q));
        vt_encode(e, &P);
        EXPECT(memcmp(e, p, 32) == 0);
        vt_add(&R, &P, &Q);
        vt_encode(e, &R);
        EXPECT(crypto_core_ed25519_add(r, p, q) == 0 && memcmp(e, r, 32) == 0);
        vt_sub(&R, &P, &Q);
        vt_encode(e, &R);
        EXPECT(crypto_core_ed25519_sub(r, p, q) == 0 && memcmp(e, r, 32) == 0);
        {   /* [x]P for a 32-bit x */
            uint32_t x;
            randombytes_buf(&x, sizeof x);
            x |= 1;
            memset(s, 0, 32);
            memcpy(s, &x, 4); /* little-endian machines; checked by the result */
            vt_mul_u32(&R, &P, (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                                   (uint32_t)s[3] << 24);
            vt_encode(e, &R);
            EXPECT(crypto_scalarmult_ed25519_noclamp(r, s, p) == 0 && memcmp(e, r, 32) == 0);
        }
        /* P + T for every torsion point T: on the curve, outside the subgroup */
        for (k = 0; k < 7; k++) {
            EXPECT(crypto_core_ed25519_add(r, p, torsion[k]) == 0);
            EXPECT(vt_decode(&R, r) && !vt_decode_valid(&R, r));
            EXPECT(!crypto_core_ed25519_is_valid_point(r));
        }
        /* random strings: the same verdict as libsodium */
        randombytes_buf(r, 32);
        if (i % 3 == 0) { /* y in [p, 2^255): not canonical */
            memset(r + 1, 0xff, 30);
            r[31] |= 0x7f;
            r[0] |= 0xed;
        }
        agree += vt_decode_valid(&R, r) == crypto_core_ed25519_is_valid_point(r);
        trials++;
    }
    for (i = 0; i < 1000; i++) { /* more random strings: about 1 in 16 is a valid element */
        randombytes_buf(r, 32);
        agree += vt_decode_valid(&R, r) == crypto_core_ed25519_is_valid_point(r);
        trials++;
    }
    EXPECT(agree == trials);
    /* multi-scalar multiplication against a sum of libsodium multiplications */
    for (k = 0; k < 40; k++) {
        crypto_core_ed25519_scalar_random(sc + 32 * k);
        random_point(pts + 32 * k);
        EXPECT(vt_decode_valid(&many[k], pts + 32 * k));
        EXPECT(crypto_scalarmult_ed25519_noclamp(r, sc + 32 * k, pts + 32 * k) == 0);
        if (k == 0) {
            memcpy(acc, r, 32);
        } else {
            EXPECT(crypto_core_ed25519_add(acc, acc, r) == 0);
        }
    }
    EXPECT(vt_msm(&R, sc, many, 40) == 0);
    vt_encode(e, &R);
    EXPECT(memcmp(e, acc, 32) == 0);
    EXPECT(vt_msm(&R, sc, many, 0) == 0 && vt_is_identity(&R));
}

/* ---- refresh, reshare, repair ------------------------------------------------ */

/* a t-of-n dealer group with identifiers 1..n */
static void make_group(unsigned char *shares, unsigned char *pk, unsigned char *ver,
                       uint32_t *ids, size_t n, size_t t) {
    unsigned char vss[8 * 32];
    size_t k;
    for (k = 0; k < n; k++) {
        ids[k] = (uint32_t)(k + 1);
    }
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, ids, n, t, NULL, NULL), FROST_OK);
    EXPECT_RC(frost_public_key_package(pk, ver, ids, n, vss, 1, t), FROST_OK);
}

/* sign msg with the signers at positions who[0..m) of (ids, shares, ver) */
static int sign_with(const unsigned char *shares, const unsigned char *ver, const uint32_t *ids,
                     const int *who, size_t m, const unsigned char *pk, size_t t) {
    static const unsigned char msg[] = "kept key";
    frost_nonces nonces[8];
    frost_commitment list[8];
    unsigned char z[8 * 32], yv[8 * 32], sig[64];
    uint32_t culprits[8];
    size_t k, n_culprits;
    for (k = 0; k < m; k++) {
        EXPECT_RC(frost_commit(&nonces[k], &list[k], ids[who[k]], shares + 32 * who[k], NULL, NULL),
                  FROST_OK);
        memcpy(yv + 32 * k, ver + 32 * who[k], 32);
    }
    for (k = 0; k < m; k++) {
        EXPECT_RC(frost_sign(z + 32 * k, &nonces[k], msg, sizeof msg, list, m, ids[who[k]],
                             shares + 32 * who[k], pk, t), FROST_OK);
    }
    return frost_aggregate(sig, culprits, &n_culprits, msg, sizeof msg, list, m, z, yv, pk, t) ==
               FROST_OK &&
           crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
}

static void test_refresh(void) {
    uint32_t ids[5], culprits[5];
    unsigned char shares[5 * 32], pk[32], ver[5 * 32], comm[5][3 * 32], dealt[5][5 * 32];
    unsigned char received[5 * 32], fresh[5 * 32], fresh_ver[5][5 * 32], pub_ver[5 * 32];
    size_t n_culprits;
    int i, k;
    static const int first[3] = {0, 1, 2}, last[3] = {2, 3, 4};

    make_group(shares, pk, ver, ids, 5, 3);
    for (i = 0; i < 5; i++) {
        EXPECT_RC(frost_refresh_deal(dealt[i], comm[i], ids, 5, 3), FROST_OK);
        EXPECT(comm[i][0] == 1 && sodium_is_zero(comm[i] + 1, 31)); /* C_0 = identity */
    }
    EXPECT_RC(frost_refresh_public_key_package(pub_ver, culprits, &n_culprits, ids, ver, 5,
                                               &comm[0][0], 3), FROST_OK);
    for (i = 0; i < 5; i++) {
        for (k = 0; k < 5; k++) {
            memcpy(received + 32 * k, dealt[k] + 32 * i, 32);
        }
        EXPECT_RC(frost_refresh_finish(fresh + 32 * i, fresh_ver[i], culprits, &n_culprits, ids[i],
                                       shares + 32 * i, ids, ver, 5, &comm[0][0], received, 3),
                  FROST_OK);
        EXPECT(memcmp(fresh_ver[i], pub_ver, sizeof pub_ver) == 0);
        EXPECT(memcmp(fresh + 32 * i, shares + 32 * i, 32) != 0);
        if (i == 1) { /* dealer 4 sends a bad share, dealer 5 a bad commitment */
            received[32 * 3] ^= 1;
            comm[4][32 * 2 + 3] ^= 4;
            EXPECT_RC(frost_refresh_finish(fresh + 32 * i, fresh_ver[i], culprits, &n_culprits,
                                           ids[i], shares + 32 * i, ids, ver, 5, &comm[0][0],
                                           received, 3), FROST_ERR_INVALID_SHARE);
            EXPECT(n_culprits == 2 && culprits[0] == 4 && culprits[1] == 5);
            EXPECT(sodium_is_zero(fresh + 32 * i, 32));
            received[32 * 3] ^= 1;
            comm[4][32 * 2 + 3] ^= 4;
            EXPECT_RC(frost_refresh_finish(fresh + 32 * i, fresh_ver[i], culprits, &n_culprits,
                                           ids[i], shares + 32 * i, ids, ver, 5, &comm[0][0],
                                           received, 3), FROST_OK);
        }
        sodium_memzero(received, sizeof received);
    }
    EXPECT(sign_with(fresh, pub_ver, ids, first, 3, pk, 3));
    EXPECT(sign_with(fresh, pub_ver, ids, last, 3, pk, 3));
    {   /* a dealer whose constant term is not the identity is named */
        unsigned char one[32] = {1};
        EXPECT(crypto_scalarmult_ed25519_base_noclamp(comm[2], one) == 0);
        EXPECT_RC(frost_refresh_public_key_package(pub_ver, culprits, &n_culprits, ids, ver, 5,
                                                   &comm[0][0], 3), FROST_ERR_INVALID_SHARE);
        EXPECT(n_culprits == 1 && culprits[0] == 3);
    }
    sodium_memzero(shares, sizeof shares);
    sodium_memzero(dealt, sizeof dealt);
    sodium_memzero(fresh, sizeof fresh);
}

static void test_reshare(void) {
    /* 2-of-3 -> 3-of-4: 2 leaves, 4 and 5 join; 1 and 3 deal */
    static const uint32_t signers[2] = {1, 3}, new_ids[4] = {1, 3, 4, 5};
    static const int three[3] = {1, 2, 3}, other[3] = {0, 1, 3};
    uint32_t ids[3], culprits[2];
    unsigned char shares[3 * 32], pk[32], ver[3 * 32], sver[2 * 32];
    unsigned char comm[2 * 3 * 32], dealt[2][4 * 32], received[2 * 32];
    unsigned char fresh[4 * 32], fresh_ver[4 * 32], pub_ver[4 * 32];
    size_t n_culprits;
    int i, k;

    make_group(shares, pk, ver, ids, 3, 2);
    memcpy(sver, ver, 32);
    memcpy(sver + 32, ver + 64, 32);
    EXPECT_RC(frost_reshare_deal(dealt[0], comm, 1, shares, 2, signers, 2, new_ids, 4, 3), FROST_OK);
    EXPECT_RC(frost_reshare_deal(dealt[1], comm + 96, 3, shares + 64, 2, signers, 2, new_ids, 4, 3),
              FROST_OK);
    EXPECT_RC(frost_reshare_deal(dealt[1], comm + 96, 2, shares + 32, 2, signers, 2, new_ids, 4, 3),
              FROST_ERR_UNKNOWN_IDENTIFIER);
    EXPECT_RC(frost_reshare_deal(dealt[1], comm + 96, 3, shares + 64, 2, signers, 1, new_ids, 4, 3),
              FROST_ERR_PARAMS);
    EXPECT_RC(frost_reshare_deal(dealt[1], comm + 96, 3, shares + 64, 2, signers, 2, new_ids, 4, 3),
              FROST_OK);
    EXPECT_RC(frost_reshare_public_key_package(pub_ver, culprits, &n_culprits, pk, 2, signers, sver,
                                               2, new_ids, 4, comm, 3), FROST_OK);
    for (i = 0; i < 4; i++) {
        for (k = 0; k < 2; k++) {
            memcpy(received + 32 * k, dealt[k] + 32 * i, 32);
        }
        EXPECT_RC(frost_reshare_finish(fresh + 32 * i, fresh_ver, culprits, &n_culprits, new_ids[i],
                                       pk, 2, signers, sver, 2, new_ids, 4, comm, received, 3),
                  FROST_OK);
        EXPECT(memcmp(fresh_ver, pub_ver, sizeof pub_ver) == 0);
        if (i == 2) { /* dealer 1's share to 4 is bad */
            received[7] ^= 1;
            EXPECT_RC(frost_reshare_finish(fresh + 32 * i, fresh_ver, culprits, &n_culprits,
                                           new_ids[i], pk, 2, signers, sver, 2, new_ids, 4, comm,
                                           received, 3), FROST_ERR_INVALID_SHARE);
            EXPECT(n_culprits == 1 && culprits[0] == 1);
            received[7] ^= 1;
            EXPECT_RC(frost_reshare_finish(fresh + 32 * i, fresh_ver, culprits, &n_culprits,
                                           new_ids[i], pk, 2, signers, sver, 2, new_ids, 4, comm,
                                           received, 3), FROST_OK);
        }
    }
    EXPECT(sign_with(fresh, pub_ver, new_ids, three, 3, pk, 3));
    EXPECT(sign_with(fresh, pub_ver, new_ids, other, 3, pk, 3));
    /* dealer 3 commits to another constant term: named by everyone */
    EXPECT(crypto_core_ed25519_add(comm + 96, comm + 96, comm + 96 + 32) == 0);
    EXPECT_RC(frost_reshare_public_key_package(pub_ver, culprits, &n_culprits, pk, 2, signers, sver,
                                               2, new_ids, 4, comm, 3), FROST_ERR_INVALID_SHARE);
    EXPECT(n_culprits == 1 && culprits[0] == 3);
    sodium_memzero(shares, sizeof shares);
    sodium_memzero(dealt, sizeof dealt);
    sodium_memzero(fresh, sizeof fresh);
    sodium_memzero(received, sizeof received);
}

static void test_repair(void) {
    static const uint32_t helpers[3] = {1, 4, 5};
    uint32_t ids[5], culprits[3];
    unsigned char shares[5 * 32], pk[32], ver[5 * 32], hver[3 * 32];
    unsigned char deltas[3][3 * 32], rows[3 * 3 * 32], in[3 * 32], sigmas[3 * 32], restored[32];
    size_t n_culprits;
    int i, k;

    make_group(shares, pk, ver, ids, 5, 3);
    for (k = 0; k < 3; k++) {
        memcpy(hver + 32 * k, ver + 32 * (helpers[k] - 1), 32);
        EXPECT_RC(frost_repair_part1(deltas[k], rows + 96 * k, helpers[k],
                                     shares + 32 * (helpers[k] - 1), 3, helpers, 3, 2), FROST_OK);
    }
    EXPECT_RC(frost_repair_part1(deltas[0], rows, 1, shares, 3, helpers, 3, 4),
              FROST_ERR_DUPLICATE_IDENTIFIER);
    EXPECT_RC(frost_repair_part1(deltas[0], rows, 1, shares, 3, helpers, 2, 2), FROST_ERR_PARAMS);
    EXPECT_RC(frost_repair_part1(deltas[0], rows, 1, shares, 3, helpers, 3, 2), FROST_OK);
    for (i = 0; i < 3; i++) {
        for (k = 0; k < 3; k++) {
            memcpy(in + 32 * k, deltas[k] + 32 * i, 32);
        }
        EXPECT_RC(frost_repair_part2(sigmas + 32 * i, culprits, &n_culprits, helpers[i], 3, helpers,
                                     hver, 3, 2, rows, in), FROST_OK);
        if (i == 0) { /* a bad delta from helper 5 */
            in[64] ^= 1;
            EXPECT_RC(frost_repair_part2(sigmas + 32 * i, culprits, &n_culprits, helpers[i], 3,
                                         helpers, hver, 3, 2, rows, in), FROST_ERR_INVALID_SHARE);
            EXPECT(n_culprits == 1 && culprits[0] == 5);
            in[64] ^= 1;
            EXPECT_RC(frost_repair_part2(sigmas + 32 * i, culprits, &n_culprits, helpers[i], 3,
                                         helpers, hver, 3, 2, rows, in), FROST_OK);
        }
    }
    EXPECT_RC(frost_repair_part3(restored, culprits, &n_culprits, 2, ver + 32, 3, helpers, hver, 3,
                                 rows, sigmas), FROST_OK);
    EXPECT(memcmp(restored, shares + 32, 32) == 0);
    /* a bad sigma from helper 4; then a record that disagrees */
    sigmas[32] ^= 1;
    EXPECT_RC(frost_repair_part3(restored, culprits, &n_culprits, 2, ver + 32, 3, helpers, hver, 3,
                                 rows, sigmas), FROST_ERR_INVALID_SHARE);
    EXPECT(n_culprits == 1 && culprits[0] == 4 && sodium_is_zero(restored, 32));
    sigmas[32] ^= 1;
    EXPECT_RC(frost_repair_part3(restored, culprits, &n_culprits, 2, ver + 64, 3, helpers, hver, 3,
                                 rows, sigmas), FROST_ERR_MISMATCH);
    sodium_memzero(shares, sizeof shares);
    sodium_memzero(deltas, sizeof deltas);
    sodium_memzero(in, sizeof in);
    sodium_memzero(sigmas, sizeof sigmas);
    sodium_memzero(restored, sizeof restored);
}

#ifdef FROST_CTGRIND
#include <valgrind/memcheck.h>
#define SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))

/* Every entry point that touches a secret, with the secret marked undefined.
 * Only return codes (public) are checked here. */
static void test_constant_time(void) {
    static const uint32_t ids[3] = {1, 2, 3};
    static const unsigned char msg[] = "constant time";
    unsigned char secret[32], shares[3 * 32], vss[2 * 32], pk[32], ver[3 * 32];
    unsigned char z[2 * 32], sig[64];
    frost_nonces nonces[2];
    frost_commitment list[2];
    uint32_t culprits[3];
    size_t n_culprits;
    int i, k;

    crypto_core_ed25519_scalar_random(secret);
    SECRET(secret, sizeof secret);
    EXPECT_RC(frost_dealer_keygen(shares, vss, pk, ids, 3, 2, secret, NULL), FROST_OK);
    for (k = 0; k < 3; k++) {
        EXPECT_RC(frost_vss_verify(ids[k], shares + 32 * k, vss, 2), FROST_OK);
    }
    EXPECT_RC(frost_public_key_package(pk, ver, ids, 3, vss, 1, 2), FROST_OK);
    {   /* refresh, reshare and repair with secret shares, deltas and sigmas */
        static const uint32_t two[2] = {1, 3}, helpers[2] = {1, 3};
        unsigned char dealt[3][3 * 32], cm[3][2 * 32], got[3 * 32], fresh[32], fv[3 * 32];
        unsigned char rs[2][2 * 32], rc_[2 * 2 * 32], in[2 * 32], sig_[2 * 32], back[32], hv[2 * 32];
        unsigned char ver3[3 * 32];
        memcpy(ver3, ver, sizeof ver3);
        for (i = 0; i < 3; i++) {
            EXPECT_RC(frost_refresh_deal(dealt[i], cm[i], ids, 3, 2), FROST_OK);
            SECRET(dealt[i], sizeof dealt[i]);
        }
        for (k = 0; k < 3; k++) {
            memcpy(got + 32 * k, dealt[k], 32); /* to participant 1 */
        }
        SECRET(shares, 32);
        EXPECT_RC(frost_refresh_finish(fresh, fv, culprits, &n_culprits, 1, shares, ids, ver3, 3,
                                       &cm[0][0], got, 2), FROST_OK);
        EXPECT_RC(frost_reshare_deal(dealt[0], cm[0], 1, shares, 2, two, 2, ids, 3, 2), FROST_OK);
        EXPECT_RC(frost_reshare_deal(dealt[1], cm[1], 3, shares + 64, 2, two, 2, ids, 3, 2), FROST_OK);
        SECRET(dealt[0], sizeof dealt[0]);
        SECRET(dealt[1], sizeof dealt[1]);
        memcpy(got, dealt[0] + 32, 32);
        memcpy(got + 32, dealt[1] + 32, 32);
        memcpy(hv, ver3, 32);
        memcpy(hv + 32, ver3 + 64, 32);
        EXPECT_RC(frost_reshare_finish(fresh, fv, culprits, &n_culprits, 2, pk, 2, two, hv, 2, ids,
                                       3, &cm[0][0], got, 2), FROST_OK);
        EXPECT_RC(frost_repair_part1(rs[0], rc_, 1, shares, 2, helpers, 2, 2), FROST_OK);
        EXPECT_RC(frost_repair_part1(rs[1], rc_ + 64, 3, shares + 64, 2, helpers, 2, 2), FROST_OK);
        SECRET(rs, sizeof rs);
        for (i = 0; i < 2; i++) {
            memcpy(in, rs[0] + 32 * i, 32);
            memcpy(in + 32, rs[1] + 32 * i, 32);
            EXPECT_RC(frost_repair_part2(sig_ + 32 * i, culprits, &n_culprits, helpers[i], 2,
                                         helpers, hv, 2, 2, rc_, in), FROST_OK);
        }
        EXPECT_RC(frost_repair_part3(back, culprits, &n_culprits, 2, ver3 + 32, 2, helpers, hv, 2,
                                     rc_, sig_), FROST_OK);
    }
    for (k = 0; k < 2; k++) {
        EXPECT_RC(frost_commit(&nonces[k], &list[k], ids[2 * k], shares + 64 * k, NULL, NULL),
                  FROST_OK);
        SECRET(nonces[k].hiding, 64);
    }
    for (k = 0; k < 2; k++) {
        EXPECT_RC(frost_sign(z + 32 * k, &nonces[k], msg, sizeof msg, list, 2, ids[2 * k],
                             shares + 64 * k, pk, 2), FROST_OK);
    }
    memcpy(ver + 32, ver + 64, 32);
    EXPECT_RC(frost_aggregate(sig, culprits, &n_culprits, msg, sizeof msg, list, 2, z, ver, pk, 2),
              FROST_OK);

    {   /* DKG rounds 2 and 3 with secret coefficients and shares */
        unsigned char co[3][64], cm[3][64], pr[3][64], sent[3][3][32], own[32], out[2][32];
        unsigned char signing[32], gpk[32], vs[3 * 32], all_cm[3 * 64], got[3 * 32];
        for (i = 0; i < 3; i++) {
            EXPECT_RC(frost_dkg_part1(co[i], cm[i], pr[i], ids[i], 3, 2, msg, sizeof msg), FROST_OK);
            SECRET(co[i], sizeof co[i]);
            memcpy(all_cm + 64 * i, cm[i], 64);
        }
        for (i = 0; i < 3; i++) {
            uint32_t pid[2];
            unsigned char pc[128], pp[128];
            int m = 0;
            for (k = 0; k < 3; k++) {
                if (k != i) {
                    pid[m] = ids[k];
                    memcpy(pc + 64 * m, cm[k], 64);
                    memcpy(pp + 64 * m, pr[k], 64);
                    m++;
                }
            }
            EXPECT_RC(frost_dkg_part2(out[0], own, culprits, &n_culprits, ids[i], co[i], 2, pid, pc,
                                      pp, 2, msg, sizeof msg), FROST_OK);
            m = 0;
            for (k = 0; k < 3; k++) {
                memcpy(sent[i][k], k == i ? own : out[m++], 32);
            }
        }
        for (k = 0; k < 3; k++) {
            memcpy(got + 32 * k, sent[k][0], 32);
        }
        EXPECT_RC(frost_dkg_part3(signing, gpk, vs, culprits, &n_culprits, 1, ids, all_cm, got, 3, 2),
                  FROST_OK);
        EXPECT_RC(frost_commit(&nonces[0], &list[0], 1, signing, NULL, NULL), FROST_OK);
        sodium_memzero(&nonces[0], sizeof nonces[0]);
    }
}
#endif

int main(int argc, char **argv) {
    vector v;
#ifdef FROST_CTGRIND
    (void)argc;
    (void)argv;
    (void)v;
    (void)load_vector;
    (void)test_vector;
    (void)test_validation;
    (void)test_dkg;
    (void)test_vt;
    (void)test_refresh;
    (void)test_reshare;
    (void)test_repair;
    if (sodium_init() < 0) {
        return 1;
    }
    test_constant_time();
    printf("test_frost (constant time): %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
#endif
    if (argc != 2) {
        fprintf(stderr, "usage: %s rfc9591-frost-ed25519-sha512.json\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    if (load_vector(argv[1], &v) != 0) {
        return 1;
    }
    test_vector(&v);
    test_validation(&v);
    test_dkg();
    test_vt();
    test_refresh();
    test_reshare();
    test_repair();
    printf("test_frost: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
