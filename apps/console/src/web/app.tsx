/**
 * The app shell: sign-in with an API key (kept in sessionStorage for this tab; sign-out forgets it),
 * the navigation, and the view of the current URL. A key the API refuses mid-session (revoked)
 * sends the user back to sign-in with the reason; drafts in localStorage are kept.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import { SessionContext, type Session } from './hooks.ts';
import { parseLocation, type View } from './lib/routes.ts';
import { SignIn } from './views/sign-in.tsx';
import { ApiKeysView } from './views/api-keys.tsx';
import { ConnectionsView } from './views/connections.tsx';
import { EnrollmentView } from './views/enrollment.tsx';
import { HistoryView } from './views/history.tsx';
import { SecretsView } from './views/secrets.tsx';
import { SettingsView } from './views/settings.tsx';
import { TailView } from './views/tail.tsx';
import { VersionsView } from './views/versions.tsx';
import { WorkflowEditor } from './views/workflow-editor.tsx';
import { WorkflowsView } from './views/workflows.tsx';
import { Link } from './widgets.tsx';

const KEY = 'codestep.apiKey';

function currentView(): View {
  return parseLocation(location.pathname, location.search);
}

export function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY));
  const [notice, setNotice] = useState('');
  const [view, setView] = useState<View>(currentView);
  useEffect(() => {
    const onPop = () => setView(currentView());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const signOut = (reason = '') => {
    sessionStorage.removeItem(KEY);
    setNotice(reason);
    setKey(null);
  };
  const session = useMemo<Session | undefined>(() => {
    if (!key) return undefined;
    const api = createApi(key, () => signOut('The API refused this key (it may have been revoked). Sign in again; your drafts are kept.'));
    const navigate = (href: string) => {
      history.pushState(null, '', href);
      setView(currentView());
      scrollTo(0, 0);
    };
    return { api, navigate, signedInWith: (prefix: string) => prefix.length > 0 && key.startsWith(prefix) };
  }, [key]);
  if (!session)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(k) => {
          sessionStorage.setItem(KEY, k);
          setNotice('');
          setKey(k);
        }}
      />
    );
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <Header view={view} onSignOut={() => signOut('Signed out.')} />
      <main id="content" tabIndex={-1}>
        <Page view={view} />
      </main>
    </SessionContext.Provider>
  );
}

function Header(props: { view: View; onSignOut: () => void }) {
  const v = props.view.name;
  const items: [string, string, boolean][] = [
    ['/workflows', 'Workflows', v === 'workflows' || v === 'workflow' || v === 'versions'],
    ['/history', 'History', v === 'history' || v === 'enrollment'],
    ['/tail', 'Live tail', v === 'tail'],
    ['/secrets', 'Secrets', v === 'secrets'],
    ['/connections', 'Connections', v === 'connections'],
    ['/api-keys', 'API keys', v === 'api-keys'],
    ['/settings', 'Settings', v === 'settings'],
  ];
  return (
    <header class="top">
      <span class="brand">codestep</span>
      <nav aria-label="Main">
        <ul>
          {items.map(([href, label, current]) => (
            <li key={href}>
              <Link href={href} current={current}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <span class="spacer" />
      <button type="button" onClick={props.onSignOut}>
        Sign out
      </button>
    </header>
  );
}

function Page(props: { view: View }) {
  const v = props.view;
  useEffect(() => {
    document.title = `${v.name === 'not-found' ? 'Not found' : v.name === 'api-keys' ? 'API keys' : v.name[0]!.toUpperCase() + v.name.slice(1)} · codestep console`;
  }, [v]);
  switch (v.name) {
    case 'workflows':
      return <WorkflowsView />;
    case 'workflow':
      return <WorkflowEditor key={v.id} id={v.id} />;
    case 'versions':
      return <VersionsView key={v.id} id={v.id} from={v.from} to={v.to} />;
    case 'history':
      return <HistoryView workflowId={v.workflowId} status={v.status} since={v.since} until={v.until} objectId={v.objectId} />;
    case 'enrollment':
      return <EnrollmentView key={v.id} id={v.id} />;
    case 'tail':
      return <TailView enrollmentId={v.enrollmentId} workflowId={v.workflowId} />;
    case 'secrets':
      return <SecretsView />;
    case 'connections':
      return <ConnectionsView />;
    case 'settings':
      return <SettingsView />;
    case 'api-keys':
      return <ApiKeysView />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <p>
            The console has no page at <code>{v.path}</code>. <Link href="/workflows">Go to the workflows</Link>.
          </p>
        </>
      );
  }
}
