import { useState } from 'preact/hooks';
import type { Account } from '../auth';
import { signIn } from '../auth';
import { problemOf, Problem } from '../errors';
import { ProblemBox } from '../ui';

export function SignIn({ onSignedIn, initialProblem }: { onSignedIn: (a: Account) => void; initialProblem: Problem | null }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(initialProblem);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      onSignedIn(await signIn(token.trim()));
    } catch (e) {
      setProblem(problemOf(e));
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form class="card sign-in-card" onSubmit={submit}>
        <div class="brand brand-large">
          <span class="logo" aria-hidden="true" />
          streamstack
        </div>
        <p class="muted">Stream applications from this server to your browser.</p>
        <label for="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="Paste your token"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          required
        />
        {problem && <ProblemBox problem={problem} />}
        <button class="button primary" type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint">The token stays in this tab only. An administrator creates one with <code>streamstack account create</code>.</p>
      </form>
    </main>
  );
}
