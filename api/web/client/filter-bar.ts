// Free-text search, the "add a filter" control, and the active filters as removable chips.

import { html } from 'htm/preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { AuthMethod } from '../../../common/access-record.ts';
import { ClockContext, type Clock } from './clock.ts';
import { AUTH_LABEL, CATEGORY_LABEL } from './format.ts';
import { RANGE_PRESETS, type FilterParam, type ViewState } from './view-state.ts';

interface FieldDef {
  param: FilterParam;
  label: string;
  placeholder?: string;
  options?: readonly string[];
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

// The choice lists repeat the record's enums (common/access-record.ts) because importing that module
// would bundle zod into the page; test/web/view-state.test.ts keeps them equal.
export const FIELDS: readonly FieldDef[] = [
  { param: 'category', label: 'Outcome', options: ['allowed', 'denied', 'error', 'client_error'] },
  { param: 'status_code', label: 'Status code', placeholder: 'e.g. 403' },
  { param: 'method', label: 'Method', options: METHODS },
  { param: 'host', label: 'Host', placeholder: 'e.g. app.example.com' },
  { param: 'service_id', label: 'Service', placeholder: 'service id' },
  { param: 'path', label: 'Path contains', placeholder: 'e.g. /admin' },
  { param: 'user_id', label: 'User', placeholder: 'user id' },
  { param: 'user_email', label: 'User e-mail', placeholder: 'part of an e-mail' },
  { param: 'user_name', label: 'User name', placeholder: 'part of a name' },
  { param: 'source_ip', label: 'Source IP / CIDR', placeholder: 'e.g. 203.0.113.0/24' },
  { param: 'country_code', label: 'Country', placeholder: 'two letters, e.g. DE' },
  { param: 'city', label: 'City', placeholder: 'e.g. Berlin' },
  { param: 'auth_method', label: 'Auth method', options: Object.keys(AUTH_LABEL) },
  { param: 'reason', label: 'Reason text', placeholder: 'e.g. invalid password' },
  { param: 'status', label: 'Status class', options: ['success', 'failed'] },
];

function valueLabel(param: FilterParam, value: string): string {
  if (param === 'category') return CATEGORY_LABEL[value] ?? value;
  if (param === 'auth_method') return AUTH_LABEL[value as AuthMethod] ?? value;
  return value;
}

interface FilterBarProps {
  view: ViewState;
  onSearch: (text: string) => void;
  onAdd: (param: FilterParam, value: string) => void;
  onRemove: (param: FilterParam, value: string) => void;
  onClearSearch: () => void;
  onClearRange: () => void;
  onClearAll: () => void;
}

export function FilterBar(props: FilterBarProps) {
  const clock = useContext(ClockContext);
  const [text, setText] = useState(props.view.search);
  const [param, setParam] = useState<FilterParam>('host');
  const [value, setValue] = useState('');
  useEffect(() => setText(props.view.search), [props.view.search]);
  const field = FIELDS.find((f) => f.param === param)!;

  const add = (e: Event) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) return;
    props.onAdd(param, param === 'country_code' || param === 'method' ? v.toUpperCase() : v);
    setValue('');
  };

  const chips: { key: string; label: string; value: string; remove: () => void }[] = [];
  if (!props.view.range) {
    chips.push({ key: 'range', label: 'Time', value: clock.range(props.view.start, props.view.end), remove: props.onClearRange });
  }
  if (props.view.search) chips.push({ key: 'search', label: 'Text', value: `“${props.view.search}”`, remove: props.onClearSearch });
  for (const f of FIELDS) {
    for (const v of props.view.filters[f.param] ?? []) {
      chips.push({ key: `${f.param}=${v}`, label: f.label, value: valueLabel(f.param, v), remove: () => props.onRemove(f.param, v) });
    }
  }

  return html`
    <section class="filter-bar">
      <form class="search" role="search" onSubmit=${(e: Event) => (e.preventDefault(), props.onSearch(text.trim()))}>
        <span class="search-icon" aria-hidden="true">⌕</span>
        <input
          type="search"
          name="search"
          placeholder="Search id, IP, host, path, user, reason…"
          value=${text}
          onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
        />
      </form>
      <form class="add-filter" onSubmit=${add}>
        <select name="field" aria-label="Filter field" value=${param} onChange=${(e: Event) => (setParam((e.target as HTMLSelectElement).value as FilterParam), setValue(''))}>
          ${FIELDS.map((f) => html`<option value=${f.param}>${f.label}</option>`)}
        </select>
        ${field.options
          ? html`<select name="value" aria-label="Filter value" value=${value} onChange=${(e: Event) => setValue((e.target as HTMLSelectElement).value)}>
              <option value="">choose…</option>
              ${field.options.map((o) => html`<option value=${o}>${valueLabel(param, o)}</option>`)}
            </select>`
          : html`<input name="value" aria-label="Filter value" placeholder=${field.placeholder} value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />`}
        <button class="btn" type="submit">Add filter</button>
      </form>
    </section>
    ${chips.length > 0
      ? html`<div class="chips" aria-label="Active filters">
          ${chips.map(
            (c) => html`<span class="chip" data-chip=${c.key}>
              <span class="chip-label">${c.label}</span> ${c.value}
              <button type="button" class="chip-x" aria-label=${`Remove ${c.label} ${c.value}`} onClick=${c.remove}>✕</button>
            </span>`,
          )}
          ${chips.length > 1 ? html`<button type="button" class="link" onClick=${props.onClearAll}>Clear all</button>` : null}
        </div>`
      : null}
  `;
}

export function rangeLabel(view: ViewState, clock: Clock): string {
  return RANGE_PRESETS.find((p) => p.key === view.range)?.long ?? clock.range(view.start, view.end);
}
