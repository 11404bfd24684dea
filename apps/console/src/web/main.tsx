/** The console's entry: the app shell (loaded first); the code editor is a chunk loaded on demand. */
import { render } from 'preact';
import { App } from './app.tsx';

const root = document.getElementById('app')!;
root.textContent = ''; // the static "Loading…" line
render(<App />, root);
