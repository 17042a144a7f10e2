// The body of unet_norm.c's kernels for one vector width, included once per ISA with these
// defined: SFX(name) (suffixes a name), TARGET (the target attribute), VL (lanes), VEC/IVEC, P(op)
// and I(op) (float and int32 intrinsics), CASTI/CASTF, HSUM(v), HMAX(v), FIRST(v).

/// FastMath.exp's clamp, range reduction and degree-6 polynomial, with FMA.
static inline TARGET VEC SFX(expv)(VEC x0) {
    VEC x = P(min)(P(set1)(88.0f), P(max)(P(set1)(-87.0f), x0));
    VEC shifted = P(fmadd)(x, P(set1)(1.442695041f), P(set1)(12582912.0f));
    VEC n = P(sub)(shifted, P(set1)(12582912.0f));
    VEC r = P(fmadd)(n, P(set1)(2.12194440e-4f), P(fnmadd)(n, P(set1)(0.693359375f), x));
    VEC p = P(set1)(1.9875691500e-4f);
    p = P(fmadd)(p, r, P(set1)(1.3981999507e-3f));
    p = P(fmadd)(p, r, P(set1)(8.3334519073e-3f));
    p = P(fmadd)(p, r, P(set1)(4.1665795894e-2f));
    p = P(fmadd)(p, r, P(set1)(1.6666665459e-1f));
    p = P(fmadd)(p, r, P(set1)(5.0000001201e-1f));
    p = P(add)(P(fmadd)(P(mul)(p, r), r, r), P(set1)(1.0f));
    IVEC bits = I(add)(I(sub)(CASTI(shifted), I(set1)(0x4B400000)), I(set1)(127));
    return P(mul)(p, CASTF(I(slli)(bits, 23)));
}

static inline TARGET float SFX(exps)(float x) { return FIRST(SFX(expv)(P(set1)(x))); }

/// v·σ(v) and σ(v) for the vector and the scalar tail.
static inline TARGET VEC SFX(sigmoidv)(VEC v) {
    return P(div)(P(set1)(1.0f), P(add)(P(set1)(1.0f), SFX(expv)(P(sub)(P(setzero)(), v))));
}

static inline TARGET float SFX(sigmoids)(float v) { return 1.0f / (1.0f + SFX(exps)(-v)); }

/// xhat, rstd and sig may be NULL (not kept: inference); silu applies SiLU after the affine map.
static TARGET void SFX(gn_forward)(const float *x, float *xhat, float *rstd, const float *gamma, const float *beta,
                                   float *y, float *sig, int silu, int channels, int groups, int batch, int pixels,
                                   float eps) {
    const int per = channels / groups, full = pixels / VL * VL;
    const double n = (double)per * pixels;
    for (int b = 0; b < batch; b++) {
        for (int g = 0; g < groups; g++) {
            double total = 0;
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                const float *src = x + ((size_t)ch * batch + b) * pixels;
                VEC acc = P(setzero)();
                int i = 0;
                for (; i < full; i += VL) acc = P(add)(acc, P(loadu)(src + i));
                float s = HSUM(acc);
                for (; i < pixels; i++) s += src[i];
                total += s;
            }
            const float mean = (float)(total / n);
            const VEC mv = P(set1)(mean);
            double sq = 0;
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                const float *src = x + ((size_t)ch * batch + b) * pixels;
                VEC acc = P(setzero)();
                int i = 0;
                for (; i < full; i += VL) {
                    const VEC d = P(sub)(P(loadu)(src + i), mv);
                    acc = P(fmadd)(d, d, acc);
                }
                float s = HSUM(acc);
                for (; i < pixels; i++) { const float d = src[i] - mean; s += d * d; }
                sq += s;
            }
            const float r = (float)(1.0 / __builtin_sqrt(sq / n + (double)eps));
            if (rstd) rstd[b * groups + g] = r;
            const VEC rv = P(set1)(r);
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                const size_t o = ((size_t)ch * batch + b) * pixels;
                const float *src = x + o;
                float *xh = xhat ? xhat + o : 0, *dst = y + o, *sg = sig ? sig + o : 0;
                const float ga = gamma[ch], be = beta[ch];
                const VEC gv = P(set1)(ga), bv = P(set1)(be);
                int i = 0;
                for (; i < full; i += VL) {
                    const VEC h = P(mul)(P(sub)(P(loadu)(src + i), mv), rv);
                    if (xh) P(storeu)(xh + i, h);
                    const VEC v = P(fmadd)(h, gv, bv);
                    if (silu) {
                        const VEC s = SFX(sigmoidv)(v);
                        if (sg) P(storeu)(sg + i, s);
                        P(storeu)(dst + i, P(mul)(v, s));
                    } else {
                        P(storeu)(dst + i, v);
                    }
                }
                for (; i < pixels; i++) {
                    const float h = (src[i] - mean) * r, v = h * ga + be;
                    if (xh) xh[i] = h;
                    if (silu) {
                        const float s = SFX(sigmoids)(v);
                        if (sg) sg[i] = s;
                        dst[i] = v * s;
                    } else {
                        dst[i] = v;
                    }
                }
            }
        }
    }
}

/// The gradient at GroupNorm's output v: dy itself, or through SiLU (dy·s·(1 + v(1 − s))).
#define GN_GRAD_AT_V(d, dyv, h, s)                                                                  \
    VEC d = dyv;                                                                                    \
    if (sg) {                                                                                       \
        const VEC v = P(fmadd)(h, gv, bv);                                                          \
        d = P(mul)(P(mul)(d, s), P(fmadd)(v, P(sub)(one, s), one));                                 \
    }

static TARGET void SFX(gn_backward)(const float *dy, const float *xhat, const float *rstd, const float *gamma,
                                    const float *beta, const float *sig, float *dgamma, float *dbeta, float *dx,
                                    int channels, int groups, int batch, int pixels, int accumulate) {
    const int per = channels / groups, full = pixels / VL * VL;
    const float n = (float)(per * pixels);
    const VEC one = P(set1)(1.0f);
    for (int ch = 0; ch < channels; ch++) { dgamma[ch] = 0; dbeta[ch] = 0; }
    for (int b = 0; b < batch; b++) {
        for (int g = 0; g < groups; g++) {
            float sumD = 0, sumDX = 0;
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                const size_t o = ((size_t)ch * batch + b) * pixels;
                const float *d0 = dy + o, *xh = xhat + o, *sg = sig ? sig + o : 0;
                const float ga = gamma[ch], be = beta[ch];
                const VEC gv = P(set1)(ga), bv = P(set1)(be);
                VEC a1 = P(setzero)(), a2 = P(setzero)();
                int i = 0;
                for (; i < full; i += VL) {
                    const VEC h = P(loadu)(xh + i);
                    GN_GRAD_AT_V(d, P(loadu)(d0 + i), h, (sg ? P(loadu)(sg + i) : one))
                    a1 = P(add)(a1, d);
                    a2 = P(fmadd)(d, h, a2);
                }
                float sd = HSUM(a1), sdx = HSUM(a2);
                for (; i < pixels; i++) {
                    float d = d0[i];
                    if (sg) { const float v = xh[i] * ga + be, s = sg[i]; d = d * s * (1 + v * (1 - s)); }
                    sd += d; sdx += d * xh[i];
                }
                dbeta[ch] += sd; dgamma[ch] += sdx;
                sumD += ga * sd; sumDX += ga * sdx;
            }
            const float r = rstd[b * groups + g], m1 = sumD / n, m2 = sumDX / n;
            const VEC rv = P(set1)(r), m1v = P(set1)(m1), m2v = P(set1)(m2);
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                const size_t o = ((size_t)ch * batch + b) * pixels;
                const float *d0 = dy + o, *xh = xhat + o, *sg = sig ? sig + o : 0;
                float *out = dx + o;
                const float ga = gamma[ch], be = beta[ch];
                const VEC gv = P(set1)(ga), bv = P(set1)(be);
                int i = 0;
                for (; i < full; i += VL) {
                    const VEC h = P(loadu)(xh + i);
                    GN_GRAD_AT_V(d, P(loadu)(d0 + i), h, (sg ? P(loadu)(sg + i) : one))
                    // r·(γ·d − m1 − x̂·m2)
                    VEC val = P(mul)(rv, P(fnmadd)(h, m2v, P(fmsub)(gv, d, m1v)));
                    if (accumulate) val = P(add)(P(loadu)(out + i), val);
                    P(storeu)(out + i, val);
                }
                for (; i < pixels; i++) {
                    float d = d0[i];
                    if (sg) { const float v = xh[i] * ga + be, s = sg[i]; d = d * s * (1 + v * (1 - s)); }
                    const float val = r * (ga * d - m1 - xh[i] * m2);
                    out[i] = accumulate ? out[i] + val : val;
                }
            }
        }
    }
}
#undef GN_GRAD_AT_V

static TARGET void SFX(softmax_rows)(float *p, int rows, int n) {
    const int full = n / VL * VL;
    for (int row = 0; row < rows; row++) {
        float *q = p + (size_t)row * n;
        VEC mv = P(set1)(-__builtin_inff());
        int j = 0;
        for (; j < full; j += VL) mv = P(max)(mv, P(loadu)(q + j));
        float m = HMAX(mv);
        for (; j < n; j++) m = q[j] > m ? q[j] : m;
        mv = P(set1)(m);
        VEC acc = P(setzero)();
        for (j = 0; j < full; j += VL) {
            const VEC e = SFX(expv)(P(sub)(P(loadu)(q + j), mv));
            P(storeu)(q + j, e);
            acc = P(add)(acc, e);
        }
        float total = HSUM(acc);
        for (; j < n; j++) { const float e = SFX(exps)(q[j] - m); q[j] = e; total += e; }
        const float inv = 1 / total;
        const VEC iv = P(set1)(inv);
        for (j = 0; j < full; j += VL) P(storeu)(q + j, P(mul)(P(loadu)(q + j), iv));
        for (; j < n; j++) q[j] *= inv;
    }
}

static TARGET void SFX(softmax_backward_rows)(const float *p, float *g, int rows, int n) {
    const int full = n / VL * VL;
    for (int row = 0; row < rows; row++) {
        const float *q = p + (size_t)row * n;
        float *d = g + (size_t)row * n;
        VEC acc = P(setzero)();
        int j = 0;
        for (; j < full; j += VL) acc = P(fmadd)(P(loadu)(q + j), P(loadu)(d + j), acc);
        float dot = HSUM(acc);
        for (; j < n; j++) dot += q[j] * d[j];
        const VEC dv = P(set1)(dot);
        for (j = 0; j < full; j += VL) P(storeu)(d + j, P(mul)(P(loadu)(q + j), P(sub)(P(loadu)(d + j), dv)));
        for (; j < n; j++) d[j] = q[j] * (d[j] - dot);
    }
}
