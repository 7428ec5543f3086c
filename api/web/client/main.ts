// Browser entry point, bundled by api/web/bundle.ts.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html, render } from 'htm/preact';
import { App } from './app.ts';

render(html`<${App} />`, document.getElementById('app')!);
