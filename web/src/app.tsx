import { useEffect, useState } from 'preact/hooks';
import { Account, forgetToken, signIn, storedToken, takeDeepLink } from './auth';
import { problemOf, Problem } from './errors';
import { Spinner } from './ui';
import { Accounts } from './views/accounts';
import { Applications } from './views/applications';
import { Fleet } from './views/fleet';
import { Sessions } from './views/sessions';
import { SignIn } from './views/sign-in';
import { StreamTarget, StreamView } from './views/stream';

type Tab = 'applications' | 'sessions' | 'fleet' | 'accounts';

const TABS: { id: Tab; label: string; admin: boolean }[] = [
  { id: 'applications', label: 'Applications', admin: false },
  { id: 'sessions', label: 'Sessions', admin: false },
  { id: 'fleet', label: 'Nodes & instances', admin: true },
  { id: 'accounts', label: 'Accounts', admin: true },
];

// Read before the first render, so that the token never stays in the address bar.
const deepLink = takeDeepLink();

export function App() {
  const [account, setAccount] = useState<Account | null>(null);
  const [checking, setChecking] = useState(true);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [tab, setTab] = useState<Tab>('applications');
  const [target, setTarget] = useState<StreamTarget | null>(null);

  useEffect(() => {
    const token = deepLink.token ?? storedToken();
    if (!token) return setChecking(false);
    signIn(token).then(
      (a) => {
        setAccount(a);
        if (deepLink.app) setTarget({ app: deepLink.app, screen: 'fit' });
      },
      (e) => {
        forgetToken();
        setProblem(problemOf(e));
      },
    ).finally(() => setChecking(false));
  }, []);

  if (checking) {
    return (
      <main class="sign-in">
        <Spinner label="Signing in…" />
      </main>
    );
  }
  if (!account) return <SignIn initialProblem={problem} onSignedIn={setAccount} />;
  if (target) return <StreamView account={account} target={target} onLeave={() => setTarget(null)} />;

  const signOut = () => {
    forgetToken();
    setProblem(null);
    setAccount(null);
  };
  return (
    <div class="shell">
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          streamstack
        </div>
        <nav class="tabs" aria-label="Sections">
          {TABS.filter((t) => account.admin || !t.admin).map((t) => (
            <button key={t.id} class={`tab${tab === t.id ? ' on' : ''}`} aria-current={tab === t.id ? 'page' : undefined} onClick={() => setTab(t.id)}>
              {t.label}
            </button>
          ))}
        </nav>
        <span class="who">{account.admin ? 'admin' : 'client'}</span>
        <button class="button ghost" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main class="content">
        {tab === 'applications' && <Applications account={account} onStart={(app, screen, microphone) => setTarget({ app, screen, microphone })} />}
        {tab === 'sessions' && <Sessions account={account} onJoin={(id, spectator) => setTarget({ join: id, spectator })} />}
        {tab === 'fleet' && account.admin && <Fleet account={account} />}
        {tab === 'accounts' && account.admin && <Accounts account={account} />}
      </main>
    </div>
  );
}
