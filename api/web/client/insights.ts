// The Insights panel: what the API's detectors found in the view's time range (brute force,
// spraying, a user from a new country, spikes, first access, access outside hours), each with its
// evidence and one click to exactly the events behind it.

import { html } from 'htm/preact';
import { useContext } from 'preact/hooks';
import type { ApiRequestError } from './api.ts';
import { ClockContext } from './clock.ts';
import { count } from './format.ts';

export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DETECTOR_LABEL: Record<string, string> = {
  brute_force: 'Brute force',
  credential_spray: 'Credential spraying',
  new_country: 'New country for a user',
  error_spike: 'Error spike',
  denial_spike: 'Denial spike',
  first_access: 'First access',
  outside_hours: 'Outside hours',
};

/** Numbers, strings, or top values as `[{value, count}]`; anything else is shown as text. */
type EvidenceValue = unknown;

export interface Finding {
  id: string;
  detector: string;
  severity: Severity;
  title: string;
  first_seen: string;
  last_seen: string;
  count: number;
  evidence: Record<string, EvidenceValue>;
  filters: Record<string, string | string[]>;
}

export interface InsightsResponse {
  data: Finding[];
  total_count: number;
}

/** What the panel has to show: findings, or why there are none to show. */
export type InsightsState =
  | { kind: 'loading' }
  | { kind: 'ready'; findings: Finding[] }
  /** An API without the insights endpoint: the badge says so, the panel stays away. */
  | { kind: 'unavailable' }
  | { kind: 'failed'; error: ApiRequestError };

/** The most severe finding's severity, which colours the header badge. */
export function topSeverity(findings: readonly Finding[]): Severity | undefined {
  return SEVERITIES.find((severity) => findings.some((f) => f.severity === severity));
}

function isTopValue(v: unknown): v is { value: string | number; count: number } {
  return typeof v === 'object' && v !== null && 'value' in v && typeof (v as { count?: unknown }).count === 'number';
}

function evidenceText(value: EvidenceValue): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '–';
    return value.map((v) => (isTopValue(v) ? `${v.value} (${count(v.count)})` : String(v))).join(', ');
  }
  if (typeof value === 'number') return count(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const humanize = (key: string) => key.replaceAll('_', ' ');

/** The header's count of findings, which opens and closes the panel. */
export function InsightsBadge(props: { state: InsightsState; open: boolean; onToggle: () => void }) {
  const s = props.state;
  const findings = s.kind === 'ready' ? s.findings : [];
  const severity = topSeverity(findings);
  const title =
    s.kind === 'unavailable'
      ? 'This API does not offer insights'
      : s.kind === 'failed'
        ? `Insights failed: ${s.error.message}`
        : `${findings.length} finding${findings.length === 1 ? '' : 's'} in this time range`;
  return html`<button type="button" class="btn btn-dark insights-toggle" data-action="insights" aria-expanded=${props.open} title=${title} onClick=${props.onToggle}>
    Insights
    <span class=${`count-badge${severity ? ` sev-${severity}` : ''}`} data-testid="insights-count">${s.kind === 'ready' ? count(findings.length) : s.kind === 'loading' ? '…' : '–'}</span>
  </button>`;
}

export function InsightsPanel(props: { state: InsightsState; onShow: (finding: Finding) => void; onClose: () => void }) {
  const clock = useContext(ClockContext);
  const s = props.state;
  let body;
  if (s.kind === 'loading') body = html`<p class="muted small insights-note">Looking for unusual access…</p>`;
  else if (s.kind === 'unavailable') return null;
  else if (s.kind === 'failed') body = html`<p class="small insights-note insights-failed" role="alert">Insights failed (${s.error.status}): ${s.error.message}</p>`;
  else if (s.findings.length === 0) body = html`<p class="muted small insights-note" data-testid="insights-empty">Nothing unusual in this time range.</p>`;
  else {
    body = html`<ol class="findings">
      ${s.findings.map((f) => {
        const first = Date.parse(f.first_seen);
        const last = Date.parse(f.last_seen);
        return html`<li class=${`finding sev-${f.severity}`} data-finding=${f.id} data-detector=${f.detector}>
          <div class="finding-main">
            <span class=${`severity sev-${f.severity}`}>${f.severity}</span>
            <span class="finding-kind muted small">${DETECTOR_LABEL[f.detector] ?? humanize(f.detector)}</span>
            <b class="finding-title">${f.title}</b>
          </div>
          <div class="finding-when muted small">
            <time datetime=${f.first_seen} title=${clock.iso(first)}>${clock.moment(first)}</time>
            ${last !== first ? html` → <time datetime=${f.last_seen} title=${clock.iso(last)}>${clock.moment(last)}</time>` : null}
          </div>
          <dl class="evidence small">
            ${Object.entries(f.evidence).map(([key, value]) => html`<div><dt>${humanize(key)}</dt><dd>${evidenceText(value)}</dd></div>`)}
          </dl>
          <button type="button" class="btn btn-small finding-show" data-action="show-finding" onClick=${() => props.onShow(f)}>
            Show the ${count(f.count)} event${f.count === 1 ? '' : 's'} →
          </button>
        </li>`;
      })}
    </ol>`;
  }
  return html`
    <section class="panel insights" aria-label="Insights" data-testid="insights">
      <header class="panel-head">
        <h2>Insights <span class="muted small">· unusual access found in this time range</span></h2>
        <button type="button" class="btn btn-ghost btn-small" aria-label="Hide insights" onClick=${props.onClose}>✕</button>
      </header>
      ${body}
    </section>
  `;
}
