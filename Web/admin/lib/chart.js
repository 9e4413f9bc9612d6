// A grouped bar chart in plain SVG: one group per day of the range, one bar per series for each day the API
// returned (days without activity have no bars, only their place on the axis). Every bar carries data-day,
// data-series, data-value and a <title>, so a pointer, a test or a screen reader can tell what it is.
import { s, uid } from './dom.js';
import { daysBetween, number, shortDay, longDay } from './format.js';

/** A round step for about `ticks` gridlines up to `max`: 1, 2 or 5 times a power of ten. */
function niceStep(max, ticks = 4) {
  const raw = Math.max(1, max) / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= raw);
  return Math.max(1, step);
}

/**
 * `days`: every YYYY-MM-DD of the range; `byDay`: Map day → {issued, sent, ...} (only days the API returned);
 * `series`: [{key, label}]; `width`: the pixels available (the chart is redrawn when that changes).
 */
export function barChart({ days, byDay, series, width, height = 280, title, description, axisX, axisY, valueText }) {
  const margin = { top: 12, right: 8, bottom: 44, left: 52 };
  const plotW = Math.max(40, width - margin.left - margin.right);
  const plotH = height - margin.top - margin.bottom;
  const max = Math.max(0, ...[...byDay.values()].flatMap((d) => series.map((sr) => d[sr.key] || 0)));
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => margin.top + plotH - (v / top) * plotH;
  const groupW = plotW / Math.max(1, days.length);
  const barW = Math.max(1, (groupW * 0.8) / series.length);
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');

  const svg = s('svg', {
    class: 'chart', role: 'img', width, height, viewBox: `0 0 ${width} ${height}`,
    'aria-labelledby': `${titleId} ${descId}`,
  }, s('title', { id: titleId }, title), s('desc', { id: descId }, description));

  // horizontal gridlines with their values
  const grid = s('g', { class: 'grid', 'aria-hidden': 'true' });
  for (let v = 0; v <= top; v += step) {
    grid.append(
      s('line', { x1: margin.left, x2: margin.left + plotW, y1: y(v), y2: y(v) }),
      s('text', { x: margin.left - 6, y: y(v), dy: '0.32em', 'text-anchor': 'end', class: 'tick' }, number(v)));
  }
  svg.append(grid);

  // day labels, thinned so they never overlap (about 48 px each)
  const every = Math.max(1, Math.ceil(48 / groupW));
  const xAxis = s('g', { class: 'axis', 'aria-hidden': 'true' },
    s('line', { x1: margin.left, x2: margin.left + plotW, y1: y(0), y2: y(0) }));
  days.forEach((day, i) => {
    if (i % every !== 0) return;
    xAxis.append(s('text', { x: margin.left + i * groupW + groupW / 2, y: y(0) + 16, 'text-anchor': 'middle', class: 'tick' }, shortDay(day)));
  });
  xAxis.append(
    s('text', { x: margin.left + plotW / 2, y: height - 4, 'text-anchor': 'middle', class: 'axis-title' }, axisX),
    s('text', { x: 0, y: 0, transform: `translate(12 ${margin.top + plotH / 2}) rotate(-90)`, 'text-anchor': 'middle', class: 'axis-title' }, axisY));
  svg.append(xAxis);

  const bars = s('g', { class: 'bars' });
  days.forEach((day, i) => {
    const metrics = byDay.get(day);
    if (!metrics) return;
    series.forEach((sr, j) => {
      const value = metrics[sr.key] || 0;
      const x = margin.left + i * groupW + groupW * 0.1 + j * barW;
      bars.append(s('rect', {
        class: `bar series-${sr.key}`, x: x.toFixed(2), y: y(value).toFixed(2), width: Math.max(0.5, barW - 0.5).toFixed(2),
        height: Math.max(0, y(0) - y(value)).toFixed(2), 'data-day': day, 'data-series': sr.key, 'data-value': value,
      }, s('title', {}, valueText(longDay(day), sr.label, value))));
    });
  });
  svg.append(bars);
  return svg;
}

/** Draws again when the chart's box changes width by more than a few pixels; stops once the page is gone. */
export function redrawOnResize(root, box, draw) {
  let lastWidth = 0;
  const observer = new ResizeObserver(() => {
    if (!root.isConnected) return observer.disconnect();
    if (Math.abs(box.clientWidth - lastWidth) > 8) { lastWidth = box.clientWidth; draw(); }
  });
  observer.observe(box);
}

/** What is wrong with a from–to range of days for a chart (a string key and its values), or null. */
export function rangeProblem(from, to, maxDays) {
  if (!from || !to || from > to) return ['dashboard.badRange', {}];
  if (daysBetween(from, to, maxDays + 1).length > maxDays) return ['dashboard.tooLong', { days: maxDays }];
  return null;
}
