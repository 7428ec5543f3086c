// The top bar: time range (presets and a custom range), time zone, insights count, live tail,
// refresh, export, sign-out.

import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useContext, useState } from 'preact/hooks';
import { ClockContext, Clock, TIME_ZONE_MODES, type TimeZoneMode } from './clock.ts';
import { RANGE_PRESETS, timeRange, type ViewState } from './view-state.ts';

interface ToolbarProps {
  view: ViewState;
  loading: boolean;
  exporting: string | undefined;
  onPreset: (key: string) => void;
  onCustom: (start: string | undefined, end: string | undefined) => void;
  onLive: (on: boolean) => void;
  onRefresh: () => void;
  onExport: (format: 'csv' | 'ndjson') => void;
  onSignOut: () => void;
  onTimeZone: (mode: TimeZoneMode) => void;
  /** The insights badge, owned by the dashboard. */
  insights: ComponentChildren;
}

function CustomRange(props: { view: ViewState; onApply: (start?: string, end?: string) => void; onClose: () => void }) {
  // Opened from a preset, the form starts from the range the preset means now.
  const clock = useContext(ClockContext);
  const current = timeRange(props.view, Date.now());
  const [start, setStart] = useState(clock.toInput(current.start));
  const [end, setEnd] = useState(clock.toInput(current.end));
  return html`
    <form
      class="popover custom-range"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        props.onApply(clock.fromInput(start), clock.fromInput(end));
      }}
    >
      <label>From <input type="datetime-local" name="start" value=${start} onInput=${(e: Event) => setStart((e.target as HTMLInputElement).value)} /></label>
      <label>To <input type="datetime-local" name="end" value=${end} onInput=${(e: Event) => setEnd((e.target as HTMLInputElement).value)} /></label>
      <p class="fine">Times in ${clock.label}. Leave “To” empty for “until now”.</p>
      <div class="row-end">
        <button type="button" class="btn btn-ghost" onClick=${props.onClose}>Cancel</button>
        <button type="submit" class="btn btn-primary" disabled=${!start}>Apply</button>
      </div>
    </form>
  `;
}

const ZONE_NAME: Record<TimeZoneMode, string> = { local: 'Local', utc: 'UTC' };

/** Which zone every date on the page is in, and the switch between local time and UTC. */
function TimeZoneSwitch(props: { onChange: (mode: TimeZoneMode) => void }) {
  const clock = useContext(ClockContext);
  const local = new Clock('local');
  return html`<div class="zone-switch" role="group" aria-label="Time zone">
    ${TIME_ZONE_MODES.map(
      (mode) => html`<button
        type="button"
        class=${`seg${clock.mode === mode ? ' seg-on' : ''}`}
        data-zone=${mode}
        aria-pressed=${clock.mode === mode}
        title=${mode === 'local' ? `Your browser's time zone: ${local.label}` : 'Coordinated Universal Time'}
        onClick=${() => props.onChange(mode)}
      >${mode === 'local' && local.offsetLabel !== 'UTC' ? `${ZONE_NAME[mode]} ${local.offsetLabel}` : ZONE_NAME[mode]}</button>`,
    )}
  </div>`;
}

export function Toolbar(props: ToolbarProps) {
  const [custom, setCustom] = useState(false);
  const [menu, setMenu] = useState(false);
  return html`
    <header class="topbar">
      <div class="brand"><span class="brand-mark"></span>Proxy Events</div>
      <div class="range-picker" role="group" aria-label="Time range">
        ${RANGE_PRESETS.map(
          (p) => html`<button
            type="button"
            class=${`seg${props.view.range === p.key ? ' seg-on' : ''}`}
            title=${p.long}
            data-range=${p.key}
            onClick=${() => (setCustom(false), props.onPreset(p.key))}
          >${p.label}</button>`,
        )}
        <button type="button" class=${`seg${props.view.range ? '' : ' seg-on'}`} data-range="custom" onClick=${() => setCustom(!custom)}>Custom…</button>
        ${custom
          ? html`<${CustomRange}
              view=${props.view}
              onClose=${() => setCustom(false)}
              onApply=${(start?: string, end?: string) => (setCustom(false), props.onCustom(start, end))}
            />`
          : null}
      </div>
      <${TimeZoneSwitch} onChange=${props.onTimeZone} />
      <div class="spacer"></div>
      ${props.insights}
      <label class=${`live${props.view.live ? ' live-on' : ''}`} title="Refresh every 5 seconds">
        <input type="checkbox" name="live" checked=${props.view.live} onChange=${(e: Event) => props.onLive((e.target as HTMLInputElement).checked)} />
        <span class="live-dot"></span> Live
      </label>
      <button type="button" class="btn btn-dark" data-action="refresh" onClick=${props.onRefresh} disabled=${props.loading}>
        ${props.loading ? 'Loading…' : 'Refresh'}
      </button>
      <div class="menu-wrap">
        <button type="button" class="btn btn-dark" data-action="export" aria-expanded=${menu} onClick=${() => setMenu(!menu)}>
          ${props.exporting ? `Exporting ${props.exporting.toUpperCase()}…` : 'Export ▾'}
        </button>
        ${menu
          ? html`<div class="popover menu" role="menu">
              <button type="button" role="menuitem" data-format="csv" onClick=${() => (setMenu(false), props.onExport('csv'))}>CSV (spreadsheet)</button>
              <button type="button" role="menuitem" data-format="ndjson" onClick=${() => (setMenu(false), props.onExport('ndjson'))}>NDJSON (one JSON per line)</button>
              <p class="fine">Every record matching the current filters.</p>
            </div>`
          : null}
      </div>
      <button type="button" class="btn btn-dark" data-action="sign-out" onClick=${props.onSignOut}>Sign out</button>
    </header>
  `;
}
