import { ColorType, createChart, LineSeries, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef } from 'react';

/** The equity curve (TradingView lightweight-charts; its attribution logo stays on). */
export function EquityChart({ points, dark }: { points: { time: number; equity: number }[]; dark: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = createChart(el.current, {
      height: 220,
      autoSize: true,
      layout: {
        attributionLogo: true,
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: dark ? '#ddd' : '#222',
      },
      timeScale: { timeVisible: true },
    });
    const series = chart.addSeries(LineSeries, { color: '#2b7de9', lineWidth: 2 });
    const seen = new Set<number>();
    const data = points
      .map((p) => ({ time: Math.floor(p.time / 1000) as UTCTimestamp, value: p.equity }))
      .filter((p) => !seen.has(p.time) && seen.add(p.time));
    series.setData(data);
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [points, dark]);
  return <div className="chart" ref={el} data-testid="equity-chart" />;
}
