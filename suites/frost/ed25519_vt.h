/* ed25519_vt.h - variable-time edwards25519 arithmetic for PUBLIC data only.
 *
 * Internal to the FROST library (not part of frost.h, not exposed to
 * Python).  Every function here branches on and indexes memory by its
 * inputs: it must never see a secret.  frost.c uses it for commitments,
 * verifying shares, group keys, signatures, binding factors, Lagrange
 * coefficients and signature shares, all of which the protocol publishes;
 * secrets go through libsodium's constant-time operations.
 *
 * Field elements are in radix 2^51 (five 64-bit limbs, products in
 * unsigned __int128); points are in extended coordinates (X:Y:Z:T) with
 * x = X/Z, y = Y/Z, xy = T/Z on -x^2 + y^2 = 1 + d x^2 y^2.  Tested for
 * equality against libsodium on random inputs (tests/c/test_frost.c).
 */
#ifndef FROST_ED25519_VT_H
#define FROST_ED25519_VT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t v[5];
} vt_fe;

typedef struct {
    vt_fe X, Y, Z, T;
} vt_point;

/** The identity (0, 1).
 *  Out: r. */
void vt_identity(vt_point *r);

/** The base point B of RFC 8032.
 *  Out: r. */
void vt_base(vt_point *r);

/** Decode an RFC 8032 point encoding (RFC 8032 5.1.3).
 *
 *  Returns: 1 if s is a canonical encoding (y < p, no "negative zero" x)
 *           of a point on the curve, else 0.  Does not check the subgroup.
 *  Out:     r: the point (meaningful only on 1).
 *  In:      s: 32 bytes.
 */
int vt_decode(vt_point *r, const unsigned char *s);

/** Decode and validate as RFC 9591 DeserializeElement does: canonical, on
 *  the curve, not the identity, in the prime-order subgroup.
 *
 *  Returns: 1 if valid, else 0 (same accepted set as libsodium's
 *           crypto_core_ed25519_is_valid_point).
 *  Out:     r: the point (meaningful only on 1).
 *  In:      s: 32 bytes.
 */
int vt_decode_valid(vt_point *r, const unsigned char *s);

/** Encode (RFC 8032 5.1.2).
 *  Out: s: 32 bytes.  In: p. */
void vt_encode(unsigned char *s, const vt_point *p);

/** Returns: 1 if p is the identity, else 0.  In: p. */
int vt_is_identity(const vt_point *p);

/** Returns: 1 if p and q are the same point, else 0.  In: p, q. */
int vt_equal(const vt_point *p, const vt_point *q);

/** Returns: 1 if [L]p is the identity (p is in the prime-order subgroup
 *  or is the identity), else 0.  In: p. */
int vt_in_subgroup(const vt_point *p);

/** r = p + q.  Out: r (may alias p or q).  In: p, q. */
void vt_add(vt_point *r, const vt_point *p, const vt_point *q);

/** r = p - q.  Out: r (may alias p or q).  In: p, q. */
void vt_sub(vt_point *r, const vt_point *p, const vt_point *q);

/** r = [x]p for a small public integer x (Horner steps of VSS
 *  evaluations).  Out: r (may alias p).  In: p, x. */
void vt_mul_u32(vt_point *r, const vt_point *p, uint32_t x);

/** Multi-scalar multiplication r = sum_k [s_k]P_k (Straus, width-5 NAF).
 *
 *  Returns: 0, or -1 if memory could not be allocated.
 *  Out:     r.
 *  In:      scalars: n x 32 bytes, little-endian, each < 2^253 (canonical
 *                    scalars are).
 *           points:  n points.  n may be 0 (r is the identity).
 */
int vt_msm(vt_point *r, const unsigned char *scalars, const vt_point *points, size_t n);

#endif /* FROST_ED25519_VT_H */
