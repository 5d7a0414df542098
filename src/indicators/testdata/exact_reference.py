"""Exact reference values for src/indicators/reference.test.ts.

Independent of the TypeScript code: every indicator is computed straight from its textbook definition with
Python's exact rational arithmetic (fractions.Fraction); square roots use 60-digit decimals. Output: the JSON file
next to this script. Regenerate with `python3 src/indicators/testdata/exact_reference.py`.

Input: the 33 daily closes of StockCharts' RSI worked example (QQQQ, Dec 2009 - Feb 2010) rounded to cents, with fixed
highs, lows and volumes (two-decimal numbers, so they are exact in both Python and as JS literals).
"""
import json
import os
from decimal import Decimal, getcontext
from fractions import Fraction as F

getcontext().prec = 60
INPUT = json.load(open(os.path.join(os.path.dirname(__file__), 'exact-input.json')))
T = INPUT['time']
C = [F(x) for x in INPUT['close']]
H = [F(x) for x in INPUT['high']]
L = [F(x) for x in INPUT['low']]
V = [F(x) for x in INPUT['volume']]
N = len(C)
NA = None


def sma(x, n):
    return [NA if i < n - 1 else sum(x[i - n + 1:i + 1]) / n for i in range(len(x))]


def ema(x, n):
    out = [NA] * len(x)
    first = next(i for i, v in enumerate(x) if v is not None)
    a = F(2, n + 1)
    for i in range(first + n - 1, len(x)):
        out[i] = sum(x[first:first + n]) / n if i == first + n - 1 else a * x[i] + (1 - a) * out[i - 1]
    return out


def wilder(x, n):
    """Wilder smoothing of a series with leading None: seed = mean of first n values, then (prev*(n-1)+x)/n."""
    out = [NA] * len(x)
    first = next(i for i, v in enumerate(x) if v is not None)
    for i in range(first + n - 1, len(x)):
        out[i] = sum(x[first:first + n]) / n if i == first + n - 1 else (out[i - 1] * (n - 1) + x[i]) / n
    return out


def wma(x, n):
    d = n * (n + 1) // 2
    return [NA if i < n - 1 else sum((j + 1) * x[i - n + 1 + j] for j in range(n)) / d for i in range(len(x))]


def rsi(x, n):
    gains = [NA] + [max(x[i] - x[i - 1], 0) for i in range(1, len(x))]
    losses = [NA] + [max(x[i - 1] - x[i], 0) for i in range(1, len(x))]
    g, l = wilder(gains, n), wilder(losses, n)
    return [NA if g[i] is None else (0 if g[i] + l[i] == 0 else 100 - 100 / (1 + g[i] / l[i]) if l[i] != 0 else F(100)) for i in range(len(x))]


def roc(x, n):
    return [NA if i < n else (x[i] / x[i - n] - 1) * 100 for i in range(len(x))]


def sqrt(q):
    return F((Decimal(q.numerator) / Decimal(q.denominator)).sqrt())


def stddev(x, n):
    out = []
    for i in range(len(x)):
        if i < n - 1:
            out.append(NA)
            continue
        w = x[i - n + 1:i + 1]
        m = sum(w) / n
        out.append(sqrt(sum((v - m) ** 2 for v in w) / n))
    return out


def tr(i):
    return max(H[i], C[i - 1]) - min(L[i], C[i - 1])


def atr(n):
    return wilder([NA] + [tr(i) for i in range(1, N)], n)


def adx(n):
    pdm, mdm = [NA], [NA]
    for i in range(1, N):
        up, down = H[i] - H[i - 1], L[i - 1] - L[i]
        pdm.append(up if up > down and up > 0 else F(0))
        mdm.append(down if down > up and down > 0 else F(0))
    sp, sm, st = wilder(pdm, n), wilder(mdm, n), wilder([NA] + [tr(i) for i in range(1, N)], n)
    pdi = [NA if st[i] is None else 100 * sp[i] / st[i] for i in range(N)]
    mdi = [NA if st[i] is None else 100 * sm[i] / st[i] for i in range(N)]
    dx = [NA if pdi[i] is None else 100 * abs(pdi[i] - mdi[i]) / (pdi[i] + mdi[i]) for i in range(N)]
    return wilder(dx, n), pdi, mdi


def cci(n):
    tp = [(H[i] + L[i] + C[i]) / 3 for i in range(N)]
    out = []
    for i in range(N):
        if i < n - 1:
            out.append(NA)
            continue
        w = tp[i - n + 1:i + 1]
        m = sum(w) / n
        md = sum(abs(v - m) for v in w) / n
        out.append((tp[i] - m) / (F(15, 1000) * md))
    return out


def stoch(k, ks, d):
    fast = [NA] * N
    for i in range(k - 1, N):
        hh, ll = max(H[i - k + 1:i + 1]), min(L[i - k + 1:i + 1])
        fast[i] = 100 * (C[i] - ll) / (hh - ll)
    def sma_na(x, n):
        out = [NA] * N
        first = next(i for i, v in enumerate(x) if v is not None)
        for i in range(first + n - 1, N):
            out[i] = sum(x[i - n + 1:i + 1]) / n
        return out
    kk = sma_na(fast, ks)
    return kk, sma_na(kk, d)


def donchian(n):
    up = [NA if i < n - 1 else max(H[i - n + 1:i + 1]) for i in range(N)]
    lo = [NA if i < n - 1 else min(L[i - n + 1:i + 1]) for i in range(N)]
    return up, lo, [NA if u is None else (u + l) / 2 for u, l in zip(up, lo)]


def obv():
    out = [V[0]]
    for i in range(1, N):
        out.append(out[-1] + (V[i] if C[i] > C[i - 1] else -V[i] if C[i] < C[i - 1] else 0))
    return out


def vwap(reset):
    out, pv, vol, sess = [], F(0), F(0), None
    for i in range(N):
        s = T[i] // reset if reset else 0
        if s != sess:
            sess, pv, vol = s, F(0), F(0)
        pv += (H[i] + L[i] + C[i]) / 3 * V[i]
        vol += V[i]
        out.append(pv / vol)
    return out


m_fast, m_slow = ema(C, 3), ema(C, 6)
m_line = [NA if s is None else f - s for f, s in zip(m_fast, m_slow)]
m_sig = ema(m_line, 4)
m12, m26 = ema(C, 12), ema(C, 26)
m_line2 = [NA if s is None else f - s for f, s in zip(m12, m26)]
bb_mid, bb_sd = sma(C, 5), stddev(C, 5)
adx5, pdi5, mdi5 = adx(5)
k533, d533 = stoch(5, 3, 3)
dc_u, dc_l, dc_m = donchian(5)

ref = {
    'sma_5': sma(C, 5), 'ema_5': ema(C, 5), 'wma_5': wma(C, 5), 'rsi_14': rsi(C, 14), 'rsi_5': rsi(C, 5),
    'roc_3': roc(C, 3), 'stddev_5': bb_sd,
    'macd_3_6_4': m_line, 'macd_signal_3_6_4': m_sig,
    'macd_hist_3_6_4': [NA if s is None else l - s for l, s in zip(m_line, m_sig)],
    'macd_12_26_9': m_line2,
    'bb_middle_5_2': bb_mid, 'bb_upper_5_2': [NA if m is None else m + 2 * s for m, s in zip(bb_mid, bb_sd)],
    'bb_lower_5_2': [NA if m is None else m - 2 * s for m, s in zip(bb_mid, bb_sd)],
    'atr_5': atr(5), 'atr_14': atr(14), 'adx_5': adx5, 'plus_di_5': pdi5, 'minus_di_5': mdi5,
    'cci_5': cci(5), 'stoch_k_5_3_3': k533, 'stoch_d_5_3_3': d533,
    'donchian_upper_5': dc_u, 'donchian_lower_5': dc_l, 'donchian_middle_5': dc_m,
    'obv': obv(), 'vwap': vwap(None), 'vwap_4h': vwap(4 * 3600 * 1000),
}
# Store decimal strings with 25 significant digits so the JSON carries more precision than a double.
out = {k: [None if v is None else format(Decimal(v.numerator) / Decimal(v.denominator), '.25g') for v in col] for k, col in ref.items()}
json.dump(out, open(os.path.join(os.path.dirname(__file__), 'exact-reference.json'), 'w'), indent=1)
print('wrote', len(out), 'series')
