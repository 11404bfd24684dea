/** The console's entry: the app shell (loaded first); the code editor is a chunk loaded on demand. */
import { render } from 'preact';
import { App } from './app.tsx';

render(<App />, document.getElementById('app')!);
