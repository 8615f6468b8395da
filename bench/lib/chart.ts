import { formatNumber, type ScenarioResult } from './harness.js';

const COLORS = { weft: '#2f7d4f', floor: '#7a7a7a', peer: '#c0612b', baseline: '#5470a8' } as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A horizontal bar chart of one scenario's medians, as a standalone SVG document. */
export function scenarioChart(result: ScenarioResult): string {
  const rowHeight = 26;
  const labelWidth = 230;
  const barWidth = 380;
  const top = 34;
  const height = top + result.rows.length * rowHeight + 12;
  const width = labelWidth + barWidth + 150;
  const max = Math.max(...result.rows.map((r) => r.median), Number.MIN_VALUE);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="20" font-weight="bold">${escapeXml(result.title)} (${escapeXml(result.unit)}, ${result.higherIsBetter ? 'higher' : 'lower'} is better)</text>`,
  ];
  result.rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const w = Math.max(1, (row.median / max) * barWidth);
    const ratio = row.ratio === undefined ? '' : ` (${row.ratio.toFixed(2)}x floor)`;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end"${row.kind === 'weft' ? ' font-weight="bold"' : ''}>${escapeXml(row.name)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${COLORS[row.kind]}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 16}">${escapeXml(formatNumber(row.median))}${escapeXml(ratio)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
