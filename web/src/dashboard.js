// The dashboard's only script: ECharts (the chart types the pages use), htmx, theme, live refresh.
// Pages embed each chart's ECharts option as JSON next to its element; this file draws them.
import htmx from 'htmx.org';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import {
  DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent,
  TooltipComponent, CanvasRenderer]);
window.htmx = htmx;
// A 404 or 400 page is a page too: swap it in like any other (htmx drops 4xx/5xx bodies by default).
htmx.config.responseHandling = [
  { code: '204', swap: false },
  { code: '[2345]..', swap: true },
];
window.echarts = echarts;

const THEME_KEY = 'hltracker-theme';
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

function theme() { return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light'; }

function formatAxis(axis) {
  for (const a of [].concat(axis || [])) {
    a.axisLabel = Object.assign({ hideOverlap: true }, a.axisLabel);
    if (a.type === 'value' && !(a.axisLabel && a.axisLabel.formatter)) {
      const pct = a.name && a.name.includes('%');
      a.axisLabel = Object.assign({}, a.axisLabel, {
        formatter: (v) => (pct ? `${v}` : compact.format(v)),
      });
    }
  }
}

function drawChart(el) {
  const source = document.getElementById(el.dataset.chart);
  if (!source) return;
  const option = JSON.parse(source.textContent);
  option.backgroundColor = 'transparent';
  option.animation = false;
  formatAxis(option.xAxis);
  formatAxis(option.yAxis);
  option.tooltip = Object.assign({ trigger: 'axis', confine: true,
    valueFormatter: (v) => (typeof v === 'number' ? compact.format(v) : v) }, option.tooltip);
  const old = echarts.getInstanceByDom(el);
  if (old) old.dispose();
  const chart = echarts.init(el, theme() === 'dark' ? 'dark' : null, { renderer: 'canvas' });
  chart.setOption(option);
  el.dataset.drawn = String(performance.now());
}

function drawAll(root) {
  (root || document).querySelectorAll('[data-chart]').forEach(drawChart);
}

function setTheme(name) {
  document.documentElement.dataset.theme = name;
  localStorage.setItem(THEME_KEY, name);
  drawAll(document);
}

// Live refresh: poll the status, reload the panels only when a new snapshot landed, never while hidden.
let polling = null;
async function poll() {
  if (document.visibilityState === 'hidden') return;
  const main = document.getElementById('main');
  if (!main) return;
  let status;
  try {
    const answer = await fetch('/dashboard/status.json', { credentials: 'same-origin', cache: 'no-store' });
    if (!answer.ok) return;
    status = await answer.json();
  } catch (e) {
    return;
  }
  const stamp = document.getElementById('as-of');
  if (stamp && status.snapshotId !== null && String(status.snapshotId) !== main.dataset.snapshotId) {
    htmx.ajax('GET', window.location.pathname + window.location.search,
      { target: '#main', select: '#main', swap: 'outerHTML' });
  }
}

function startPolling() {
  const main = document.getElementById('main');
  const seconds = Number((main && main.dataset.poll) || 5);
  if (polling) clearInterval(polling);
  polling = setInterval(poll, Math.max(1, seconds) * 1000);
}

document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') poll(); });
document.addEventListener('htmx:afterSettle', (event) => drawAll(event.detail.elt && event.detail.elt.parentNode));
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-theme-toggle]');
  if (button) setTheme(theme() === 'dark' ? 'light' : 'dark');
});
window.addEventListener('resize', () => {
  document.querySelectorAll('[data-chart]').forEach((el) => {
    const chart = echarts.getInstanceByDom(el);
    if (chart) chart.resize();
  });
});
document.addEventListener('DOMContentLoaded', () => { drawAll(document); startPolling(); });
window.hltracker = { drawAll, poll, setTheme };

// Heat cells carry their figures as data attributes; the tooltip is written on first hover only.
const usd = (v) => `$${compact.format(Number(v))}`;
document.addEventListener('mouseover', (event) => {
  const td = event.target.closest('table.heat td.cell');
  if (!td || td.title) return;
  const coin = td.parentElement.dataset.coin;
  const th = td.closest('table').tHead.rows[0].cells[td.cellIndex];
  const cohort = th ? th.title : '';
  if (td.dataset.risk !== undefined && td.dataset.riskValue !== undefined) {
    td.title = `${coin} · ${cohort}: ${usd(td.dataset.riskValue)} at risk of ${usd(td.dataset.value)}`;
  } else if (td.dataset.count !== undefined) {
    const bias = td.dataset.bias === '' ? '–' : `${(100 * Number(td.dataset.bias)).toFixed(1)}%`;
    td.title = `${coin} · ${cohort}: ${usd(td.dataset.value)}, ${td.dataset.count} positions, long ${bias}`;
  }
});
