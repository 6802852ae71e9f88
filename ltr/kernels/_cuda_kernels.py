"""The CUDA kernels of :mod:`ltr.kernels.cuda` (imported only from there, when a GPU kernel is first used).

Module-level functions on purpose: Numba's CUDA simulator swaps the ``cuda`` module in a kernel's globals.
Formulas and the pair order are documented in :mod:`ltr.kernels.cuda` and in the CPU kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

f32 = np.float32
lgb_eps = float(np.float32(0.01))  # LightGBM's 0.01f, promoted to double
_EXP_LIMIT = math.log(np.finfo(np.float64).max)  # 709.78...: the largest x whose exp is finite

# -- pointwise --------------------------------------------------------------------------------------------
@cuda.jit
def pointwise(s, y, w, kind, grad, hess):
    i = cuda.grid(1)
    if i >= s.size:
        return
    if kind == 0:
        g = s[i] - y[i]
        h = 1.0
    else:
        x = s[i]
        if x >= 0:
            p = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            p = e / (1.0 + e)
        g = p - y[i]
        h = p * (1.0 - p)
    wi = w[i] if w.size else 1.0
    grad[i] = g * wi
    hess[i] = h * wi

# -- ranknet ----------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def p_low(x):
    if x <= 0:
        return 1.0 / (1.0 + math.exp(x))
    e = math.exp(-x)
    return e / (1.0 + e)

@cuda.jit
def ranknet(s, y, ptr, w, sigma, grad, hess):
    q = cuda.blockIdx.x
    a = ptr[q]
    n = ptr[q + 1] - a
    for r in range(cuda.threadIdx.x, n, cuda.blockDim.x):
        g = 0.0
        h = 0.0
        # The CPU loop visits pairs (i, j), i < j, by i then j: this document's pairs with i < r come first.
        for t in range(n):
            if t == r or y[a + t] == y[a + r]:
                continue
            i, j = (t, r) if t < r else (r, t)
            hi, lo = (i, j) if y[a + i] > y[a + j] else (j, i)
            p = p_low(sigma * (s[a + hi] - s[a + lo]))
            qq = p_low(sigma * (s[a + lo] - s[a + hi]))
            lam = sigma * p
            if r == hi:
                g -= lam
            else:
                g += lam
            h += sigma * sigma * p * qq
        if w.size:
            g *= w[a + r]
            h *= w[a + r]
        grad[a + r] = g
        hess[a + r] = h

# -- listnet ----------------------------------------------------------------------------------------------
@cuda.jit
def listnet(s, y, ptr, w, target, grad, hess):
    q = cuda.blockIdx.x
    a = ptr[q]
    n = ptr[q + 1] - a
    sh = cuda.shared.array(5, dtype=np.float64)  # informative, max score, sum exp, max label, target sum
    if cuda.threadIdx.x == 0:
        sh[0] = 0.0
        for i in range(1, n):
            if y[a + i] != y[a]:
                sh[0] = 1.0
        if sh[0] > 0.0:  # sums in the CPU kernel's order
            top = s[a]
            for i in range(1, n):
                top = max(top, s[a + i])
            total = 0.0
            for i in range(n):
                total += math.exp(s[a + i] - top)
            ytop = y[a]
            for i in range(1, n):
                ytop = max(ytop, y[a + i])
            ytot = 0.0
            for i in range(n):
                ytot += math.exp(y[a + i] - ytop) if target == 0 else math.pow(2.0, y[a + i]) - 1.0
            sh[1] = top
            sh[2] = total
            sh[3] = ytop
            sh[4] = ytot
    cuda.syncthreads()
    for r in range(cuda.threadIdx.x, n, cuda.blockDim.x):
        if sh[0] == 0.0:  # one document, or equal labels: nothing to rank
            grad[a + r] = 0.0
            hess[a + r] = 0.0
            continue
        ps = math.exp(s[a + r] - sh[1]) / sh[2]
        if target == 0:
            py = math.exp(y[a + r] - sh[3]) / sh[4]
        else:
            py = (math.pow(2.0, y[a + r]) - 1.0) / sh[4]
        wi = w[a + r] if w.size else 1.0
        grad[a + r] = (ps - py) * wi
        hess[a + r] = ps * (1.0 - ps) * wi

# -- lambdarank ---------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def pair_exact(i, j, ss, ls, gs, es, disc, inv, sigma, divide):
    """Pair (i, j), rank i < rank j: (i's gradient increment, hessian increment, its term of S)."""
    hi = ls[j] < ls[i]
    sign = 1.0 if hi else -1.0
    delta = sign * (gs[i] - gs[j]) * (disc[i] - disc[j]) * inv
    ei = es[i]
    ej = es[j]
    den = ei + ej
    if den > 1e-300:
        d = 0.01 + abs(ss[i] - ss[j]) if divide else 1.0
        v = 1.0 / (den * d)
        lam = sigma * delta * (ej if hi else ei) * v
        hes = sigma * lam * (ei if hi else ej) * v * d
    else:
        x = sigma * sign * (ss[i] - ss[j])
        # exp overflows to inf beyond log(DBL_MAX) on the device and the CPU (p = 0); the simulator's Python math.exp
        # raises OverflowError there instead
        p = 0.0 if x > _EXP_LIMIT else 1.0 / (1.0 + math.exp(x))
        dd = delta / (0.01 + abs(ss[i] - ss[j])) if divide else delta
        lam = sigma * dd * p
        hes = sigma * lam * (1.0 - p)
    return -(sign * lam), hes, 2.0 * lam

@cuda.jit(device=True)
def pair_lightgbm(i, j, ss, ls, gs, disc, inv, sigma, divide, table, t_min, t_max, t_factor):
    hi = ls[j] < ls[i]
    delta_score = ss[i] - ss[j] if hi else ss[j] - ss[i]
    gap = gs[i] - gs[j] if hi else gs[j] - gs[i]
    delta = gap * abs(disc[i] - disc[j]) * inv
    if divide:
        delta /= lgb_eps + abs(delta_score)
    if delta_score <= t_min:
        p = table[0]
    elif delta_score >= t_max:
        p = table[table.size - 1]
    else:
        p = table[int((delta_score - t_min) * t_factor)]
    p_lambda = p * (-sigma * delta)
    lam = f32(p_lambda)
    hes = f32(p * (1.0 - p) * (sigma * sigma * delta))
    signed = lam if hi else -lam
    return signed, hes, -2.0 * p_lambda

@cuda.jit(device=True)
def pair_xgboost(i, j, ss, ls, gs, disc, inv, divide):
    i_high = ls[i] > ls[j]
    rh, rl = (i, j) if i_high else (j, i)
    diff = f32(ss[rh]) - f32(ss[rl])
    t = min(-diff, f32(88.7))
    p = np.float64(f32(1.0) / ((f32(math.exp(t)) + f32(1.0)) + f32(1e-16)))
    gh, gl, dh, dl = gs[rh], gs[rl], disc[rh], disc[rl]
    delta = abs(((gh * dh + gl * dl) - (gl * dh + gh * dl)) * inv)
    if divide:
        delta /= np.float64(abs(diff)) + 0.01
    lam = f32((p - 1.0) * delta)
    hes = f32(max(p * (1.0 - p), 1e-16) * delta * 2.0)
    return (lam if i_high else -lam), hes, -2.0 * np.float64(lam)

@cuda.jit
def lambdarank(s, lab, gain, ptr, w, inv_max_dcg, disc, mode, sigma, k, norm, table, t_min, t_max, t_factor,
               w_norm, order, ss, ls, gs, es, rowsum, gacc, hacc, grad, hess):
    q = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    a = ptr[q]
    n = ptr[q + 1] - a
    inv = inv_max_dcg[q]
    shf = cuda.shared.array(2, dtype=np.float64)  # S, normalisation factor
    shi = cuda.shared.array(3, dtype=np.int64)  # m (documents above -inf), n_i, divide
    # Rank by counting: the stable descending order of the CPU kernel (ties by input position).
    for o in range(tid, n, nt):
        v = s[a + o]
        c = 0
        for t in range(n):
            u = s[a + t]
            if u > v or (u == v and t < o):
                c += 1
        order[a + c] = o
    cuda.syncthreads()
    for r in range(tid, n, nt):
        o = order[a + r]
        ss[a + r] = s[a + o]
        ls[a + r] = lab[a + o]
        gs[a + r] = gain[a + o]
    cuda.syncthreads()
    if tid == 0:
        m = n
        if mode != 2:
            while m > 0 and ss[a + m - 1] == -math.inf:
                m -= 1
        n_i = 0
        divide = 0
        if mode == 0:
            if m >= 2 and inv > 0.0:
                worst = ss[a + n - 2] if ss[a + n - 1] == -math.inf else ss[a + n - 1]
                divide = 1 if (norm and ss[a] != worst) else 0
                n_i = min(m - 1, k)
        elif mode == 1:
            worst = ss[a + n - 2] if n > 1 and ss[a + n - 1] == -math.inf else ss[a + n - 1]
            divide = 1 if (norm and ss[a] != worst) else 0
            n_i = min(n - 1, k, m) if inv > 0.0 else 0
        else:
            divide = 1 if (norm and ss[a] != ss[a + n - 1]) else 0
            n_i = min(n, k) if inv > 0.0 else 0
        shi[0] = m
        shi[1] = n_i
        shi[2] = divide
    cuda.syncthreads()
    m = shi[0]
    n_i = shi[1]
    divide = shi[2] != 0
    if mode == 0:
        for r in range(tid, m, nt):
            es[a + r] = math.exp(sigma * (ss[a + r] - ss[a]))
    cuda.syncthreads()
    sa = ss[a:a + n]
    la = ls[a:a + n]
    ga = gs[a:a + n]
    ea = es[a:a + n]
    # Each thread sums its own documents' contributions in the CPU kernel's order.
    for r in range(tid, n, nt):
        if mode == 0:
            g_as_j = 0.0
            h_as_j = 0.0
            g_as_i = 0.0
            h_as_i = 0.0
            part = 0.0
            if r < m:
                for i in range(min(r, n_i)):
                    if la[i] != la[r]:
                        gi, hh, _ = pair_exact(i, r, sa, la, ga, ea, disc, inv, sigma, divide)
                        g_as_j += -gi
                        h_as_j += hh
                if r < n_i:
                    for j in range(r + 1, m):
                        if la[j] != la[r]:
                            gi, hh, tt = pair_exact(r, j, sa, la, ga, ea, disc, inv, sigma, divide)
                            g_as_i += gi
                            h_as_i += hh
                            part += tt
            rowsum[a + r] = part
            gacc[a + r] = g_as_j + g_as_i if r < n_i else g_as_j
            hacc[a + r] = h_as_j + h_as_i if r < n_i else h_as_j
        else:
            g32 = f32(0.0)
            h32 = f32(0.0)
            mm = m if mode == 1 else n
            if r < mm:
                for i in range(min(r, n_i)):
                    if la[i] != la[r]:
                        if mode == 1:
                            gi, hh, _ = pair_lightgbm(i, r, sa, la, ga, disc, inv, sigma, divide, table,
                                                      t_min, t_max, t_factor)
                        else:
                            gi, hh, _ = pair_xgboost(i, r, sa, la, ga, disc, inv, divide)
                        g32 = g32 - gi
                        h32 = h32 + hh
                if r < n_i:
                    for j in range(r + 1, mm):
                        if la[j] != la[r]:
                            if mode == 1:
                                gi, hh, _ = pair_lightgbm(r, j, sa, la, ga, disc, inv, sigma, divide, table,
                                                          t_min, t_max, t_factor)
                            else:
                                gi, hh, _ = pair_xgboost(r, j, sa, la, ga, disc, inv, divide)
                            g32 = g32 + gi
                            h32 = h32 + hh
            gacc[a + r] = np.float64(g32)  # float32 values, held exactly
            hacc[a + r] = np.float64(h32)
    cuda.syncthreads()
    if tid == 0:
        total = 0.0
        if mode == 0:
            for r in range(n_i):
                total += rowsum[a + r]
        else:
            # The parity modes' S is one running sum over the pairs in the CPU order: recomputed serially.
            mm = m if mode == 1 else n
            for i in range(n_i):
                for j in range(i + 1, mm):
                    if la[i] != la[j]:
                        if mode == 1:
                            _, _, tt = pair_lightgbm(i, j, sa, la, ga, disc, inv, sigma, divide, table, t_min,
                                                     t_max, t_factor)
                        else:
                            _, _, tt = pair_xgboost(i, j, sa, la, ga, disc, inv, divide)
                        total += tt
        shf[0] = total
        if norm and total > 0.0:  # the exact mode as the CPU kernel: log1p (1.0 + a small S rounds it away)
            shf[1] = math.log1p(total) / (math.log(2.0) * total) if mode == 0 else math.log2(1.0 + total) / total
        else:
            shf[1] = 1.0
    cuda.syncthreads()
    factor = shf[1]
    for r in range(tid, n, nt):
        o = order[a + r]
        if mode == 0:
            wo = w[a + o] if w.size else 1.0
            grad[a + o] = gacc[a + r] * factor * wo
            hess[a + o] = hacc[a + r] * factor * wo
        elif mode == 1:
            g = f32(f32(gacc[a + r]) * factor)
            h = f32(f32(hacc[a + r]) * factor)
            if w.size:
                g = f32(g * f32(w[a + o]))
                h = f32(h * f32(w[a + o]))
            grad[a + o] = g
            hess[a + o] = h
        else:
            fac = f32(factor)
            wo = f32(w[a + o]) if w.size else f32(1.0)
            wn = f32(w_norm)
            grad[a + o] = ((f32(gacc[a + r]) * fac) * wo) * wn
            hess[a + o] = ((f32(hacc[a + r]) * fac) * wo) * wn

@cuda.jit
def to_float64(src, dst, round32):
    i = cuda.grid(1)
    if i < dst.size:
        dst[i] = np.float64(f32(src[i])) if round32 else np.float64(src[i])

KERNELS = {"pointwise": pointwise, "ranknet": ranknet, "listnet": listnet, "lambdarank": lambdarank,
        "to_float64": to_float64}
