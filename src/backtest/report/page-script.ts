/**
 * The report page's own script (plain ES2020, run in the browser after the inlined chart library): one chart
 * with panes sharing a time scale — candles with trade markers, indicator overlays and strategy price lines;
 * equity; drawdown; oscillators; strategy series — plus table sorting and the jump from a trade row to the chart.
 * It exposes `window.tradeforgeReport` ({ chart, candles, markers, jumpToTrade }) for tests and the console.
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var L = window.LightweightCharts;
  var el = document.getElementById('chart');
  var COLORS = ['#1c71d8', '#e66100', '#9141ac', '#26a269', '#c64600', '#613583', '#865e3c'];
  var chart = L.createChart(el, {
    autoSize: true,
    layout: { background: { color: '#ffffff' }, textColor: '#1d2433', fontSize: 11 },
    grid: { vertLines: { color: '#f0f1f4' }, horzLines: { color: '#f0f1f4' } },
    timeScale: { timeVisible: true, secondsVisible: false },
    crosshair: { mode: 0 },
  });
  var minMove = Math.pow(10, -D.priceDecimals);
  var priceFormat = { type: 'price', precision: D.priceDecimals, minMove: minMove };
  function line(t, v) {
    var out = [];
    for (var i = 0; i < t.length; i++) out.push(v[i] === null ? { time: t[i] } : { time: t[i], value: v[i] });
    return out;
  }
  var candleData = [];
  for (var i = 0; i < D.candles.t.length; i++) {
    candleData.push({ time: D.candles.t[i], open: D.candles.o[i], high: D.candles.h[i], low: D.candles.l[i], close: D.candles.c[i] });
  }
  var candles = chart.addSeries(L.CandlestickSeries, {
    upColor: '#26a269', downColor: '#e01b24', borderVisible: false, wickUpColor: '#26a269', wickDownColor: '#e01b24',
    priceFormat: priceFormat,
  }, 0);
  candles.setData(candleData);
  D.overlays.forEach(function (o, k) {
    var s = chart.addSeries(L.LineSeries, {
      color: COLORS[k % COLORS.length], lineWidth: 1, priceFormat: priceFormat, title: o.name,
      lastValueVisible: false, priceLineVisible: false,
    }, 0);
    s.setData(line(o.t, o.v));
  });
  D.priceLines.forEach(function (p) {
    candles.createPriceLine({ price: p.price, color: '#9141ac', lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: p.label });
  });
  var shapes = {
    'entry-long': { shape: 'arrowUp', color: '#1c71d8', position: 'atPriceBottom' },
    'entry-short': { shape: 'arrowDown', color: '#c061cb', position: 'atPriceTop' },
    'exit-win': { shape: 'circle', color: '#26a269', position: 'atPriceMiddle' },
    'exit-loss': { shape: 'circle', color: '#e01b24', position: 'atPriceMiddle' },
    'strategy': { shape: 'square', color: '#9141ac', position: 'atPriceMiddle' },
  };
  var markerList = D.markers.map(function (m, k) {
    var s = shapes[m.kind];
    return { time: m.t, position: s.position, price: m.p, shape: s.shape, color: s.color, size: 1, id: 'm' + k };
  });
  var markers = L.createSeriesMarkers(candles, markerList);
  // Hovering a marker shows what it is (the trade, or the strategy's event).
  var tip = document.getElementById('chart-tip');
  chart.subscribeCrosshairMove(function (param) {
    var id = param && param.hoveredObjectId;
    var k = typeof id === 'string' && id.charAt(0) === 'm' ? Number(id.slice(1)) : -1;
    if (k < 0 || !D.markers[k] || !param.point) { tip.style.display = 'none'; return; }
    tip.textContent = D.markers[k].text;
    tip.style.left = (param.point.x + 12) + 'px';
    tip.style.top = (param.point.y + 12) + 'px';
    tip.style.display = 'block';
  });
  var pane = 1;
  var equity = chart.addSeries(L.LineSeries, { color: '#1c71d8', lineWidth: 2, title: 'equity', priceFormat: { type: 'price', precision: 2, minMove: 0.01 } }, pane++);
  equity.setData(line(D.equity.t, D.equity.v));
  var dd = chart.addSeries(L.AreaSeries, {
    lineColor: '#e01b24', topColor: 'rgba(224,27,36,0.05)', bottomColor: 'rgba(224,27,36,0.35)', lineWidth: 1,
    invertFilledArea: true, title: 'drawdown %', priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
  }, pane++);
  dd.setData(line(D.drawdown.t, D.drawdown.v));
  D.panes.forEach(function (o, k) {
    var s = chart.addSeries(L.LineSeries, { color: COLORS[k % COLORS.length], lineWidth: 1, title: o.name }, pane++);
    s.setData(line(o.t, o.v));
  });
  D.strategySeries.forEach(function (o, k) {
    var s = chart.addSeries(L.LineSeries, {
      color: COLORS[(k + 2) % COLORS.length], lineWidth: 1, title: o.name, lineType: 1,
      priceFormat: { type: 'price', precision: 4, minMove: 0.0001 },
    }, pane++);
    s.setData(line(o.t, o.v));
  });
  var panes = chart.panes();
  panes[0].setStretchFactor(3);
  for (var p = 1; p < panes.length; p++) panes[p].setStretchFactor(1);
  el.style.height = (420 + 130 * (panes.length - 1)) + 'px';
  chart.timeScale().fitContent();

  // The candle index holding a time (seconds), for jumping to a trade.
  function candleIndex(t) {
    var lo = 0, hi = D.candles.t.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (D.candles.t[mid] <= t) lo = mid + 1; else hi = mid; }
    return Math.max(0, lo - 1);
  }
  function jumpToTrade(entrySec, exitSec) {
    var a = candleIndex(entrySec), b = candleIndex(exitSec);
    var pad = Math.max(10, Math.round((b - a) * 0.5));
    chart.timeScale().setVisibleLogicalRange({ from: a - pad, to: b + pad });
    el.scrollIntoView({ block: 'nearest' });
  }
  document.querySelectorAll('tr[data-entry]').forEach(function (row) {
    row.addEventListener('click', function () {
      document.querySelectorAll('tr.selected').forEach(function (r) { r.classList.remove('selected'); });
      row.classList.add('selected');
      jumpToTrade(Number(row.getAttribute('data-entry')), Number(row.getAttribute('data-exit')));
    });
  });

  // Sortable tables: a click on a header sorts by that column (numbers by the cell's data-v, else text).
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.querySelectorAll('thead th');
    heads.forEach(function (th, col) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('data-sort') === 'asc' ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute('data-sort'); });
        th.setAttribute('data-sort', dir === 1 ? 'asc' : 'desc');
        function key(r) {
          var c = r.cells[col];
          var v = c.getAttribute('data-v');
          if (v !== null) return Number(v);
          var x = Number(c.textContent);
          return c.textContent.trim() !== '' && isFinite(x) ? x : c.textContent;
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
          return String(x).localeCompare(String(y)) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  window.tradeforgeReport = { chart: chart, candles: candles, markers: markers, jumpToTrade: jumpToTrade };
})();
`;
