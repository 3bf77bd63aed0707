/* ed25519_vt.c - variable-time edwards25519 arithmetic for PUBLIC data only
 * (see ed25519_vt.h).  Nothing here may ever see a secret.
 *
 * Field: GF(p), p = 2^255 - 19, five 51-bit limbs.  Invariants: fe_mul and
 * fe_sq accept limbs below 2^54 and return limbs below 2^51 + 2^18;
 * fe_sub returns carried limbs; fe_add does not carry, so its output (below
 * 2^53 for carried inputs) may feed one multiplication but not another
 * addition that then feeds a multiplication.
 *
 * Curve: -x^2 + y^2 = 1 + d x^2 y^2 (RFC 8032), extended coordinates.
 * Formulas: "add-2008-hwcd-3" and "dbl-2008-hwcd" (Hisil, Wong, Carter,
 * Dawson, "Twisted Edwards curves revisited", 2008), with the completed
 * (P1xP1) intermediate form: any completed point converts to projective (3
 * multiplications) or extended (4).
 */
#include "ed25519_vt.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define M51 ((uint64_t)0x7ffffffffffffULL)

/* d = -121665/121666, 2d, sqrt(-1), and the base point, in limbs */
static const vt_fe FE_D = {{0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL,
                            0x739c663a03cbbULL, 0x52036cee2b6ffULL}};
static const vt_fe FE_D2 = {{0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
                             0x6738cc7407977ULL, 0x2406d9dc56dffULL}};
static const vt_fe FE_SQRTM1 = {{0x61b274a0ea0b0ULL, 0x0d5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                                 0x78595a6804c9eULL, 0x2b8324804fc1dULL}};
static const vt_point BASE = {
    {{0x62d608f25d51aULL, 0x412a4b4f6592aULL, 0x75b7171a4b31dULL, 0x1ff60527118feULL,
      0x216936d3cd6e5ULL}},
    {{0x6666666666658ULL, 0x4ccccccccccccULL, 0x1999999999999ULL, 0x3333333333333ULL,
      0x6666666666666ULL}},
    {{1, 0, 0, 0, 0}},
    {{0x68ab3a5b7dda3ULL, 0x00eea2a5eadbbULL, 0x2af8df483c27eULL, 0x332b375274732ULL,
      0x67875f0fd78b7ULL}}};

/* delta = L - 2^252 = 27742317777372353535851937790883648493, little-endian */
static const unsigned char DELTA[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                        0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14};

/* ---- field -------------------------------------------------------------- */

static void fe_0(vt_fe *h) {
    memset(h, 0, sizeof *h);
}

static void fe_1(vt_fe *h) {
    memset(h, 0, sizeof *h);
    h->v[0] = 1;
}

static void fe_add(vt_fe *h, const vt_fe *f, const vt_fe *g) {
    int i;
    for (i = 0; i < 5; i++) {
        h->v[i] = f->v[i] + g->v[i];
    }
}

static void fe_carry(vt_fe *h) {
    uint64_t c;
    int i;
    for (i = 0; i < 4; i++) {
        c = h->v[i] >> 51;
        h->v[i] &= M51;
        h->v[i + 1] += c;
    }
    c = h->v[4] >> 51;
    h->v[4] &= M51;
    h->v[0] += 19 * c;
}

/* carry 128-bit column sums (each below 2^115) into h */
static void fe_reduce(vt_fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    uint64_t c;
    u128 t;
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    c = (uint64_t)(r4 >> 51);
    t = (u128)((uint64_t)r0 & M51) + (u128)c * 19;
    h->v[0] = (uint64_t)t & M51;
    h->v[1] = ((uint64_t)r1 & M51) + (uint64_t)(t >> 51);
    h->v[2] = (uint64_t)r2 & M51;
    h->v[3] = (uint64_t)r3 & M51;
    h->v[4] = (uint64_t)r4 & M51;
}

/* h = f + 4p - g without carrying: g's limbs below 2^53; the result's limbs
 * stay below f's plus 2^53 (a multiplication input if f's are below 2^53) */
static void fe_sub_nc(vt_fe *h, const vt_fe *f, const vt_fe *g) {
    h->v[0] = f->v[0] + 0x1fffffffffffb4ULL - g->v[0];
    h->v[1] = f->v[1] + 0x1ffffffffffffcULL - g->v[1];
    h->v[2] = f->v[2] + 0x1ffffffffffffcULL - g->v[2];
    h->v[3] = f->v[3] + 0x1ffffffffffffcULL - g->v[3];
    h->v[4] = f->v[4] + 0x1ffffffffffffcULL - g->v[4];
}

/* h = 121666 f (f's limbs below 2^54) */
static void fe_mul121666(vt_fe *h, const vt_fe *f) {
    fe_reduce(h, (u128)f->v[0] * 121666, (u128)f->v[1] * 121666, (u128)f->v[2] * 121666,
              (u128)f->v[3] * 121666, (u128)f->v[4] * 121666);
}

/* h = f - g, computed as f + 4p - g (g's limbs below 2^53), then carried */
static void fe_sub(vt_fe *h, const vt_fe *f, const vt_fe *g) {
    fe_sub_nc(h, f, g);
    fe_carry(h);
}

static void fe_neg(vt_fe *h, const vt_fe *f) {
    vt_fe z;
    fe_0(&z);
    fe_sub(h, &z, f);
}

static void fe_mul(vt_fe *h, const vt_fe *f, const vt_fe *g) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0, r1, r2, r3, r4;

    r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_reduce(h, r0, r1, r2, r3, r4);
}

static void fe_sq(vt_fe *h, const vt_fe *f) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
    const uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0, r1, r2, r3, r4;

    r0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)f2_2 * f3_19;
    r1 = (u128)f0_2 * f1 + (u128)f2_2 * f4_19 + (u128)f3 * f3_19;
    r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_2 * f4_19;
    r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
    r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    fe_reduce(h, r0, r1, r2, r3, r4);
}

/* h = f^(2^n) */
static void fe_sqn(vt_fe *h, const vt_fe *f, int n) {
    int i;
    fe_sq(h, f);
    for (i = 1; i < n; i++) {
        fe_sq(h, h);
    }
}

/* The shared addition chain of z^(2^250 - 1); also returns z^11. */
static void fe_pow2501(vt_fe *out, vt_fe *z11, const vt_fe *z) {
    vt_fe t0, t1, t2, t3;

    fe_sq(&t0, z);           /* z^2 */
    fe_sqn(&t1, &t0, 2);     /* z^8 */
    fe_mul(&t1, z, &t1);     /* z^9 */
    fe_mul(&t0, &t0, &t1);   /* z^11 */
    *z11 = t0;
    fe_sq(&t2, &t0);         /* z^22 */
    fe_mul(&t1, &t1, &t2);   /* z^(2^5 - 1) */
    fe_sqn(&t2, &t1, 5);
    fe_mul(&t1, &t2, &t1);   /* z^(2^10 - 1) */
    fe_sqn(&t2, &t1, 10);
    fe_mul(&t2, &t2, &t1);   /* z^(2^20 - 1) */
    fe_sqn(&t3, &t2, 20);
    fe_mul(&t2, &t3, &t2);   /* z^(2^40 - 1) */
    fe_sqn(&t2, &t2, 10);
    fe_mul(&t1, &t2, &t1);   /* z^(2^50 - 1) */
    fe_sqn(&t2, &t1, 50);
    fe_mul(&t2, &t2, &t1);   /* z^(2^100 - 1) */
    fe_sqn(&t3, &t2, 100);
    fe_mul(&t2, &t3, &t2);   /* z^(2^200 - 1) */
    fe_sqn(&t2, &t2, 50);
    fe_mul(out, &t2, &t1);   /* z^(2^250 - 1) */
}

/* h = z^(p - 2) = 1/z */
static void fe_invert(vt_fe *h, const vt_fe *z) {
    vt_fe t, z11;
    fe_pow2501(&t, &z11, z);
    fe_sqn(&t, &t, 5);       /* z^(2^255 - 32) */
    fe_mul(h, &t, &z11);     /* z^(2^255 - 21) */
}

/* h = z^((p - 5) / 8) = z^(2^252 - 3) */
static void fe_pow22523(vt_fe *h, const vt_fe *z) {
    vt_fe t, z11;
    fe_pow2501(&t, &z11, z);
    fe_sqn(&t, &t, 2);       /* z^(2^252 - 4) */
    fe_mul(h, &t, z);
}

static uint64_t load64(const unsigned char *s) {
    uint64_t r = 0;
    int i;
    for (i = 7; i >= 0; i--) {
        r = (r << 8) | s[i];
    }
    return r;
}

static void store64(unsigned char *s, uint64_t x) {
    int i;
    for (i = 0; i < 8; i++) {
        s[i] = (unsigned char)(x >> (8 * i));
    }
}

/* the low 255 bits of s */
static void fe_frombytes(vt_fe *h, const unsigned char *s) {
    h->v[0] = load64(s) & M51;
    h->v[1] = (load64(s + 6) >> 3) & M51;
    h->v[2] = (load64(s + 12) >> 6) & M51;
    h->v[3] = (load64(s + 19) >> 1) & M51;
    h->v[4] = (load64(s + 24) >> 12) & M51;
}

/* the canonical encoding (value mod p, below p) */
static void fe_tobytes(unsigned char *s, const vt_fe *f) {
    vt_fe t = *f;

    fe_carry(&t);
    while (t.v[0] >> 51) {
        fe_carry(&t);
    }
    /* every limb below 2^51: 0 <= t < 2^255; subtract p once if t >= p */
    if (t.v[1] == M51 && t.v[2] == M51 && t.v[3] == M51 && t.v[4] == M51 &&
        t.v[0] >= M51 - 18) {
        t.v[0] -= M51 - 18;
        t.v[1] = t.v[2] = t.v[3] = t.v[4] = 0;
    }
    store64(s, t.v[0] | (t.v[1] << 51));
    store64(s + 8, (t.v[1] >> 13) | (t.v[2] << 38));
    store64(s + 16, (t.v[2] >> 26) | (t.v[3] << 25));
    store64(s + 24, (t.v[3] >> 39) | (t.v[4] << 12));
}

static int fe_iszero(const vt_fe *f) {
    unsigned char s[32];
    unsigned char acc = 0;
    int i;
    fe_tobytes(s, f);
    for (i = 0; i < 32; i++) {
        acc |= s[i];
    }
    return acc == 0;
}

static int fe_isneg(const vt_fe *f) {
    unsigned char s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static int fe_equal(const vt_fe *f, const vt_fe *g) {
    vt_fe d;
    fe_sub(&d, f, g);
    return fe_iszero(&d);
}

/* ---- points --------------------------------------------------------------- */

typedef struct {
    vt_fe X, Y, Z;
} p2;

typedef struct {
    vt_fe X, Y, Z, T;
} p1p1; /* completed: x = X/Z, y = Y/T */

typedef struct {
    vt_fe YplusX, YminusX, Z, T2d;
} cached;

void vt_identity(vt_point *r) {
    fe_0(&r->X);
    fe_1(&r->Y);
    fe_1(&r->Z);
    fe_0(&r->T);
}

void vt_base(vt_point *r) {
    *r = BASE;
}

static void to_cached(cached *c, const vt_point *p) {
    fe_add(&c->YplusX, &p->Y, &p->X);
    fe_sub_nc(&c->YminusX, &p->Y, &p->X);
    c->Z = p->Z;
    fe_mul(&c->T2d, &p->T, &FE_D2);
}

static void p1p1_to_p2(p2 *r, const p1p1 *p) {
    fe_mul(&r->X, &p->X, &p->T);
    fe_mul(&r->Y, &p->Y, &p->Z);
    fe_mul(&r->Z, &p->Z, &p->T);
}

static void p1p1_to_p3(vt_point *r, const p1p1 *p) {
    fe_mul(&r->X, &p->X, &p->T);
    fe_mul(&r->Y, &p->Y, &p->Z);
    fe_mul(&r->Z, &p->Z, &p->T);
    fe_mul(&r->T, &p->X, &p->Y);
}

static void p3_to_p2(p2 *r, const vt_point *p) {
    r->X = p->X;
    r->Y = p->Y;
    r->Z = p->Z;
}

/* r = 2p (p's limbs below 2^52) */
static void dbl(p1p1 *r, const p2 *p) {
    vt_fe t0;
    fe_sq(&r->X, &p->X);           /* A = X^2 */
    fe_sq(&r->Z, &p->Y);           /* B = Y^2 */
    fe_sq(&r->T, &p->Z);
    fe_add(&r->T, &r->T, &r->T);   /* C = 2 Z^2 */
    fe_add(&t0, &p->X, &p->Y);
    fe_sq(&t0, &t0);               /* (X + Y)^2 */
    fe_add(&r->T, &r->T, &r->X);   /* C + A */
    fe_add(&r->Y, &r->Z, &r->X);   /* B + A */
    fe_sub_nc(&r->T, &r->T, &r->Z); /* C + A - B = C - (B - A) */
    fe_sub_nc(&r->Z, &r->Z, &r->X); /* B - A */
    fe_sub_nc(&r->X, &t0, &r->Y);  /* E = (X + Y)^2 - A - B */
}

/* r = p + q (sign = 1) or p - q (sign = -1) */
static void add_cached(p1p1 *r, const vt_point *p, const cached *q, int sign) {
    vt_fe t0;
    fe_add(&r->X, &p->Y, &p->X);
    fe_sub_nc(&r->Y, &p->Y, &p->X);
    if (sign > 0) {
        fe_mul(&r->Z, &r->X, &q->YplusX);  /* B */
        fe_mul(&r->Y, &r->Y, &q->YminusX); /* A */
    } else {
        fe_mul(&r->Z, &r->X, &q->YminusX);
        fe_mul(&r->Y, &r->Y, &q->YplusX);
    }
    fe_mul(&r->T, &q->T2d, &p->T);          /* C */
    fe_mul(&r->X, &p->Z, &q->Z);
    fe_add(&t0, &r->X, &r->X);              /* D */
    fe_sub_nc(&r->X, &r->Z, &r->Y);         /* E = B - A */
    fe_add(&r->Y, &r->Z, &r->Y);            /* H = B + A */
    if (sign > 0) {
        fe_add(&r->Z, &t0, &r->T);          /* G = D + C */
        fe_sub_nc(&r->T, &t0, &r->T);       /* F = D - C */
    } else {
        fe_sub_nc(&r->Z, &t0, &r->T);
        fe_add(&r->T, &t0, &r->T);
    }
}

void vt_add(vt_point *r, const vt_point *p, const vt_point *q) {
    cached c;
    p1p1 t;
    to_cached(&c, q);
    add_cached(&t, p, &c, 1);
    p1p1_to_p3(r, &t);
}

void vt_sub(vt_point *r, const vt_point *p, const vt_point *q) {
    cached c;
    p1p1 t;
    to_cached(&c, q);
    add_cached(&t, p, &c, -1);
    p1p1_to_p3(r, &t);
}

int vt_is_identity(const vt_point *p) {
    return fe_iszero(&p->X) && fe_equal(&p->Y, &p->Z);
}

int vt_equal(const vt_point *p, const vt_point *q) {
    vt_fe a, b;
    fe_mul(&a, &p->X, &q->Z);
    fe_mul(&b, &q->X, &p->Z);
    if (!fe_equal(&a, &b)) {
        return 0;
    }
    fe_mul(&a, &p->Y, &q->Z);
    fe_mul(&b, &q->Y, &p->Z);
    return fe_equal(&a, &b);
}

void vt_encode(unsigned char *s, const vt_point *p) {
    vt_fe zi, x, y;
    fe_invert(&zi, &p->Z);
    fe_mul(&x, &p->X, &zi);
    fe_mul(&y, &p->Y, &zi);
    fe_tobytes(s, &y);
    s[31] ^= (unsigned char)(fe_isneg(&x) << 7);
}

int vt_decode(vt_point *r, const unsigned char *s) {
    vt_fe u, v, v3, vxx, chk, one;
    int i, high = 1;

    /* y < p: not (s[31] & 0x7f == 0x7f, s[30..1] == 0xff, s[0] >= 0xed) */
    for (i = 1; i < 31; i++) {
        high &= s[i] == 0xff;
    }
    if ((s[31] & 0x7f) == 0x7f && high && s[0] >= 0xed) {
        return 0;
    }
    fe_1(&one);
    fe_frombytes(&r->Y, s);
    fe_1(&r->Z);
    fe_sq(&u, &r->Y);
    fe_mul(&v, &u, &FE_D);
    fe_sub(&u, &u, &one);      /* u = y^2 - 1 */
    fe_add(&v, &v, &one);      /* v = d y^2 + 1 */

    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v);      /* v^3 */
    fe_sq(&r->X, &v3);
    fe_mul(&r->X, &r->X, &v);
    fe_mul(&r->X, &r->X, &u);  /* u v^7 */
    fe_pow22523(&r->X, &r->X);
    fe_mul(&r->X, &r->X, &v3);
    fe_mul(&r->X, &r->X, &u);  /* x = u v^3 (u v^7)^((p-5)/8) */

    fe_sq(&vxx, &r->X);
    fe_mul(&vxx, &vxx, &v);
    fe_sub(&chk, &vxx, &u);
    if (!fe_iszero(&chk)) {
        fe_add(&chk, &vxx, &u);
        fe_carry(&chk);
        if (!fe_iszero(&chk)) {
            return 0; /* not on the curve */
        }
        fe_mul(&r->X, &r->X, &FE_SQRTM1);
    }
    if (fe_iszero(&r->X) && (s[31] >> 7)) {
        return 0; /* x = 0 encoded with the sign bit set */
    }
    if (fe_isneg(&r->X) != (s[31] >> 7)) {
        fe_neg(&r->X, &r->X);
    }
    fe_mul(&r->T, &r->X, &r->Y);
    return 1;
}

/* ---- scalars -------------------------------------------------------------- */

/* Width-w NAF of a 256-bit little-endian integer: naf[i] odd in
 * (-2^(w-1), 2^(w-1)) or zero, at least w-1 zeros after each non-zero digit,
 * sum naf[i] 2^i = s.  Returns the number of digits up to the last non-zero. */
static int wnaf(signed char naf[257], const unsigned char *s, int w) {
    uint64_t k[5];
    const uint64_t width = (uint64_t)1 << w, mask = width - 1;
    int pos = 0, len = 0, i;

    for (i = 0; i < 4; i++) {
        k[i] = load64(s + 8 * i);
    }
    k[4] = 0;
    memset(naf, 0, 257);
    while (pos < 257) {
        int word = pos / 64, bit = pos % 64;
        uint64_t window = k[word] >> bit;
        int64_t digit;
        if (bit != 0 && word < 4) {
            window |= k[word + 1] << (64 - bit);
        }
        if ((window & 1) == 0) {
            pos++;
            continue;
        }
        digit = (int64_t)(window & mask);
        if (digit & (int64_t)(width >> 1)) {
            /* negative digit: s - digit 2^pos carries 2^(pos + w) */
            int b = pos + w, j;
            digit -= (int64_t)width;
            for (j = b / 64; j < 5; j++) {
                uint64_t add = (j == b / 64) ? (uint64_t)1 << (b % 64) : 1;
                k[j] += add;
                if (k[j] >= add) {
                    break; /* no carry out */
                }
            }
        }
        naf[pos] = (signed char)digit;
        len = pos + 1;
        pos += w;
    }
    return len;
}

/* [8]p == O */
static int small_order(const vt_point *p) {
    p1p1 t;
    p2 q;
    int k;
    p3_to_p2(&q, p);
    for (k = 0; k < 3; k++) {
        dbl(&t, &q);
        p1p1_to_p2(&q, &t);
    }
    return fe_iszero(&q.X);
}

/* [L]p == O with L = 2^252 + delta.  Right to left: q = [2^j]p while
 * acc = [delta mod 2^j]p for j up to delta's 126 NAF digits; the remaining
 * doublings of q only need its Montgomery u = (1 + y)/(1 - y), doubled with
 * the x-only formula of RFC 7748.  Finally [2^252]p == -acc: since u(-P) =
 * u(P), equal u means [2^252]p = +-[delta]p, and [2^252 - delta]p = O is
 * impossible for a p that is not of small order (2^252 - delta is not a
 * multiple of L); points of small order are answered first. */
int vt_in_subgroup(const vt_point *p) {
    signed char naf[257];
    vt_point q = *p, acc;
    cached qc;
    p1p1 t;
    p2 q2;
    vt_fe U, W, a, b, c;
    int j, len;

    if (small_order(p)) {
        return vt_is_identity(p);
    }
    len = wnaf(naf, DELTA, 2);
    vt_identity(&acc);
    p3_to_p2(&q2, &q);
    for (j = 0; j < len; j++) {
        if (naf[j] != 0) {
            to_cached(&qc, &q);
            add_cached(&t, &acc, &qc, naf[j]);
            p1p1_to_p3(&acc, &t);
        }
        dbl(&t, &q2);
        if (j + 1 < len && naf[j + 1] != 0) {
            p1p1_to_p3(&q, &t);
            p3_to_p2(&q2, &q);
        } else {
            p1p1_to_p2(&q2, &t);
        }
    }
    /* u = U/W = (Z + Y)/(Z - Y) */
    fe_add(&U, &q2.Z, &q2.Y);
    fe_sub(&W, &q2.Z, &q2.Y);
    for (; j < 252; j++) {
        fe_add(&a, &U, &W);
        fe_sq(&a, &a);             /* (U + W)^2 */
        fe_sub(&b, &U, &W);
        fe_sq(&b, &b);             /* (U - W)^2 */
        fe_sub_nc(&c, &a, &b);     /* 4UW */
        fe_mul(&U, &a, &b);
        fe_mul121666(&W, &c);
        fe_add(&W, &W, &b);
        fe_mul(&W, &W, &c);        /* 4UW ((U - W)^2 + 121666 * 4UW) */
    }
    /* u(acc) = (Z + Y)/(Z - Y); compare U/W with it */
    fe_add(&a, &acc.Z, &acc.Y);
    fe_sub(&b, &acc.Z, &acc.Y);
    fe_mul(&a, &a, &W);
    fe_mul(&b, &b, &U);
    return fe_equal(&a, &b);
}

int vt_decode_valid(vt_point *r, const unsigned char *s) {
    return vt_decode(r, s) && !vt_is_identity(r) && vt_in_subgroup(r);
}

void vt_mul_u32(vt_point *r, const vt_point *p, uint32_t x) {
    unsigned char s[32] = {0};
    signed char naf[257];
    cached pc;
    p1p1 t;
    p2 acc;
    int i, len;

    s[0] = (unsigned char)x;
    s[1] = (unsigned char)(x >> 8);
    s[2] = (unsigned char)(x >> 16);
    s[3] = (unsigned char)(x >> 24);
    len = wnaf(naf, s, 2);
    if (len == 0) {
        vt_identity(r);
        return;
    }
    to_cached(&pc, p);
    *r = *p; /* naf[len - 1] == 1 for a positive x */
    for (i = len - 2; i >= 0; i--) {
        p3_to_p2(&acc, r);
        dbl(&t, &acc);
        if (naf[i] != 0) {
            vt_point u;
            p1p1_to_p3(&u, &t);
            add_cached(&t, &u, &pc, naf[i]);
        }
        p1p1_to_p3(r, &t);
    }
}

#define MSM_W 5
#define MSM_TABLE (1 << (MSM_W - 2)) /* odd multiples 1, 3, ..., 2^(w-1) - 1 */

int vt_msm(vt_point *r, const unsigned char *scalars, const vt_point *points, size_t n) {
    signed char *naf = NULL;
    cached *tab = NULL;
    p1p1 t;
    p2 acc;
    size_t k;
    int i, len = 0;

    vt_identity(r);
    if (n == 0) {
        return 0;
    }
    naf = malloc(257 * n);
    tab = malloc(sizeof(cached) * MSM_TABLE * n);
    if (naf == NULL || tab == NULL) {
        free(naf);
        free(tab);
        return -1;
    }
    for (k = 0; k < n; k++) {
        vt_point cur = points[k], p2x;
        cached twice;
        int l = wnaf(naf + 257 * k, scalars + 32 * k, MSM_W);
        if (l > len) {
            len = l;
        }
        p3_to_p2(&acc, &points[k]);
        dbl(&t, &acc);
        p1p1_to_p3(&p2x, &t);
        to_cached(&twice, &p2x);
        to_cached(&tab[MSM_TABLE * k], &cur);
        for (i = 1; i < MSM_TABLE; i++) {
            add_cached(&t, &cur, &twice, 1);
            p1p1_to_p3(&cur, &t);
            to_cached(&tab[MSM_TABLE * k + i], &cur);
        }
    }
    if (len > 0) {
        p3_to_p2(&acc, r);
        for (i = len - 1; i >= 0; i--) {
            dbl(&t, &acc);
            for (k = 0; k < n; k++) {
                int d = naf[257 * k + i];
                if (d != 0) {
                    vt_point u;
                    p1p1_to_p3(&u, &t);
                    add_cached(&t, &u, &tab[MSM_TABLE * k + (d > 0 ? d : -d) / 2], d > 0 ? 1 : -1);
                }
            }
            if (i > 0) {
                p1p1_to_p2(&acc, &t);
            }
        }
        p1p1_to_p3(r, &t);
    }
    free(naf);
    free(tab);
    return 0;
}
