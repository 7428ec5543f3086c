// The view and the browser history: every change of view is a history entry (or replaces one),
// and Back/Forward move between views.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { parseView, serializeView, type ViewState } from './view-state.ts';

/** History entries this page made: Back may return through them. */
const IN_APP = { proxyEvents: true };

export function cameFromThisPage(): boolean {
  return (history.state as typeof IN_APP | null)?.proxyEvents === true;
}

export function useView(): [ViewState, (next: ViewState, replace?: boolean) => void] {
  const [view, setView] = useState(() => parseView(location.search));
  useEffect(() => {
    // One spelling per view: a hand-written or old URL is rewritten to the canonical one.
    const query = serializeView(view);
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}`);
    const onPop = () => setView(parseView(location.search));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const go = useCallback((next: ViewState, replace = false) => {
    const query = serializeView(next);
    history[replace ? 'replaceState' : 'pushState'](IN_APP, '', `${location.pathname}${query ? `?${query}` : ''}`);
    setView(parseView(query));
  }, []);
  return [view, go];
}
