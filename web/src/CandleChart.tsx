import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import { api, openStream, type Trade } from './api';

/** One candle as the API sends it (epoch ms). */
export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

interface CandlesResponse {
  symbol: string;
  timeframe: string;
  candles: Candle[];
  overlays: { name: string; values: (number | null)[] }[];
}

const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
const TF_MS: Record<string, number> = {
  '1m': 60e3,
  '5m': 300e3,
  '15m': 900e3,
  '1h': 3600e3,
  '4h': 14400e3,
  '1d': 864e5,
};
/** Overlays a trader can switch on: label and the indicator spec the API computes. */
const OVERLAYS = [
  { label: 'SMA 20', spec: 'sma:20' },
  { label: 'EMA 50', spec: 'ema:50' },
  { label: 'Bollinger 20,2', spec: 'bbands:20,2' },
] as const;
const PALETTE = ['#e9a23b', '#9b59b6', '#7f8c8d', '#16a085', '#c0392b'];

const sec = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
const bucket = (ms: number, tf: string) => Math.floor(ms / (TF_MS[tf] ?? 60e3)) * (TF_MS[tf] ?? 60e3);

/** Entry and exit markers of closed trades, placed on the candle that holds them. */
export function tradeMarkers(trades: Trade[], tf: string, first: number, last: number): SeriesMarker<Time>[] {
  const out: SeriesMarker<Time>[] = [];
  const within = (t: number) => t >= first && t <= last + (TF_MS[tf] ?? 0);
  for (const t of trades) {
    const long = t.side === 'long';
    if (within(t.entryTime)) {
      out.push({
        time: sec(bucket(t.entryTime, tf)),
        position: long ? 'belowBar' : 'aboveBar',
        shape: long ? 'arrowUp' : 'arrowDown',
        color: '#2b7de9',
        text: `${long ? 'Buy' : 'Sell'} ${t.quantity}`,
      });
    }
    if (within(t.exitTime)) {
      out.push({
        time: sec(bucket(t.exitTime, tf)),
        position: long ? 'aboveBar' : 'belowBar',
        shape: 'circle',
        color: t.pnl >= 0 ? '#1e9e5a' : '#d64545',
        text: `Exit ${t.pnl >= 0 ? '+' : ''}${t.pnl.toFixed(2)}`,
      });
    }
  }
  return out.sort((a, b) => Number(a.time) - Number(b.time));
}

/**
 * The candlestick chart (TradingView lightweight-charts): volume, a timeframe switch, indicator overlays, trade
 * markers, and live updates (closed bars from the candles topic, the forming bar from tickers).
 */
export function CandleChart({ dark }: { dark: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  const [symbols, setSymbols] = useState<{ symbol: string; timeframe: string }[]>([]);
  const [symbol, setSymbol] = useState('');
  const [tf, setTf] = useState('');
  const [overlays, setOverlays] = useState<string[]>(['sma:20']);
  const [info, setInfo] = useState({ candles: 0, markers: 0, last: 0, overlays: '' });
  const [error, setError] = useState('');

  useEffect(() => {
    api<{ symbols: { symbol: string; timeframe: string }[] }>('GET', '/api/market/symbols')
      .then((r) => {
        setSymbols(r.symbols);
        if (r.symbols[0]) {
          setSymbol(r.symbols[0].symbol);
          setTf(r.symbols[0].timeframe);
        }
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);

  useEffect(() => {
    if (!el.current || !symbol || !tf) return;
    let chart: IChartApi | undefined = createChart(el.current, {
      height: 360,
      autoSize: true,
      layout: {
        attributionLogo: true,
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: dark ? '#ddd' : '#222',
      },
      grid: { vertLines: { visible: false }, horzLines: { color: dark ? '#333' : '#eee' } },
      timeScale: { timeVisible: true },
    });
    const candles: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, {
      upColor: '#1e9e5a',
      downColor: '#d64545',
      wickUpColor: '#1e9e5a',
      wickDownColor: '#d64545',
      borderVisible: false,
    });
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' } });
    chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    const markers = createSeriesMarkers(candles, []);
    let last: Candle | undefined;
    let cancelled = false;
    const volumeBar = (c: Candle) => ({
      time: sec(c.time),
      value: c.volume,
      color: c.close >= c.open ? 'rgba(30,158,90,0.4)' : 'rgba(214,69,69,0.4)',
    });
    const bar = (c: Candle) => ({ time: sec(c.time), open: c.open, high: c.high, low: c.low, close: c.close });

    const load = async () => {
      const q = new URLSearchParams({ symbol, timeframe: tf, limit: '500' });
      if (overlays.length > 0) q.set('indicators', overlays.join(';'));
      const [r, t] = await Promise.all([
        api<CandlesResponse>('GET', `/api/market/candles?${q}`),
        api<{ trades: Trade[] }>('GET', `/api/trades?symbol=${encodeURIComponent(symbol)}`),
      ]);
      if (cancelled || !chart) return;
      candles.setData(r.candles.map(bar));
      volume.setData(r.candles.map(volumeBar));
      let k = 0;
      for (const o of r.overlays) {
        const line = chart.addSeries(LineSeries, {
          color: PALETTE[k++ % PALETTE.length],
          lineWidth: 1,
          priceLineVisible: false,
          lastValueVisible: false,
        });
        line.setData(
          r.candles.flatMap((c, i) =>
            o.values[i] === null ? [] : [{ time: sec(c.time), value: o.values[i] as number }],
          ),
        );
      }
      const first = r.candles[0]?.time ?? 0;
      last = r.candles[r.candles.length - 1];
      const m = tradeMarkers(t.trades, tf, first, last?.time ?? 0);
      markers.setMarkers(m);
      chart.timeScale().fitContent();
      setInfo({
        candles: r.candles.length,
        markers: m.length,
        last: last?.time ?? 0,
        overlays: r.overlays.map((o) => o.name).join(' '),
      });
    };
    load().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));

    const off = openStream(['candles', 'tickers', 'fills'], (topic, data) => {
      if (!chart) return;
      if (topic === 'fills') {
        void load();
        return;
      }
      const d = data as { symbol?: string; candle?: Candle; last?: number; time?: number };
      if (d.symbol !== symbol) return;
      if (topic === 'candles' && d.candle) {
        const c = d.candle;
        const t = bucket(c.time, tf);
        // A closed base bar folds into the chart's candle of its bucket.
        const next: Candle =
          last && last.time === t
            ? {
                ...last,
                high: Math.max(last.high, c.high),
                low: Math.min(last.low, c.low),
                close: c.close,
                volume: last.volume + c.volume,
              }
            : { ...c, time: t };
        if (last && t < last.time) return;
        last = next;
        candles.update(bar(next));
        volume.update(volumeBar(next));
        setInfo((i) => ({ ...i, candles: i.candles + (i.last === t ? 0 : 1), last: t }));
      } else if (topic === 'tickers' && d.last !== undefined && last) {
        // The forming candle moves with the ticker until its bar closes.
        const t = bucket(d.time && d.time > 0 ? d.time : Date.now(), tf);
        if (t < last.time) return;
        const px = d.last;
        last =
          t === last.time
            ? { ...last, high: Math.max(last.high, px), low: Math.min(last.low, px), close: px }
            : { time: t, open: last.close, high: px, low: px, close: px, volume: 0 };
        candles.update(bar(last));
      }
    });
    return () => {
      cancelled = true;
      off();
      chart?.remove();
      chart = undefined;
    };
  }, [symbol, tf, overlays, dark]);

  const base = symbols.find((s) => s.symbol === symbol)?.timeframe ?? '1m';
  const frames = TIMEFRAMES.filter((t) => (TF_MS[t] ?? 0) >= (TF_MS[base] ?? 0));
  const toggle = (spec: string) => setOverlays((o) => (o.includes(spec) ? o.filter((x) => x !== spec) : [...o, spec]));

  return (
    <section className="card wide">
      <h2>Chart</h2>
      {error && (
        <p className="neg" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <select aria-label="chart symbol" value={symbol} onChange={(e) => setSymbol(e.target.value)}>
          {symbols.map((s) => (
            <option key={s.symbol} value={s.symbol}>
              {s.symbol}
            </option>
          ))}
        </select>
        <fieldset className="inline" aria-label="timeframe">
          {frames.map((t) => (
            <button
              type="button"
              key={t}
              aria-pressed={t === tf}
              className={t === tf ? 'active' : ''}
              onClick={() => setTf(t)}
            >
              {t}
            </button>
          ))}
        </fieldset>
        {OVERLAYS.map((o) => (
          <label key={o.spec}>
            <input type="checkbox" checked={overlays.includes(o.spec)} onChange={() => toggle(o.spec)} />
            {o.label}
          </label>
        ))}
      </div>
      <div
        className="chart tall"
        ref={el}
        data-testid="candle-chart"
        data-timeframe={tf}
        data-candles={info.candles}
        data-markers={info.markers}
        data-last={info.last}
        data-overlays={info.overlays}
      />
    </section>
  );
}
