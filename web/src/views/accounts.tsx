import { useState } from 'preact/hooks';
import type { AccountView } from '../../../libs/contracts/src/views';
import type { Account } from '../auth';
import { problemOf, Problem } from '../errors';
import { useLoad } from '../live';
import { ProblemBox, Section, Spinner, Table, when } from '../ui';

export function Accounts({ account }: { account: Account }) {
  const accounts = useLoad(() => account.api.request<AccountView[]>('GET', '/1.0/accounts'));
  const [name, setName] = useState('');
  const [role, setRole] = useState<'client' | 'admin'>('client');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const act = async (what: () => Promise<void>) => {
    setProblem(null);
    try {
      await what();
    } catch (e) {
      setProblem(problemOf(e));
    }
    accounts.reload();
  };
  const create = (ev: Event) => {
    ev.preventDefault();
    void act(async () => {
      const a = await account.api.request<AccountView & { token: string }>('POST', '/1.0/accounts', { name: name.trim(), role });
      setCreated({ name: a.name, token: a.token });
      setName('');
    });
  };
  return (
    <Section title="Accounts">
      <form class="card form-row" onSubmit={create}>
        <input aria-label="Account name" placeholder="New account name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
        <select aria-label="Role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as 'client' | 'admin')}>
          <option value="client">client</option>
          <option value="admin">admin</option>
        </select>
        <button class="button primary" type="submit" disabled={name.trim() === ''}>
          Create
        </button>
      </form>
      {created && (
        <div class="notice" role="status">
          Token for <strong>{created.name}</strong>, shown once: <code class="secret">{created.token}</code>
          <button class="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {(problem ?? accounts.problem) && <ProblemBox problem={(problem ?? accounts.problem)!} />}
      {accounts.loading && <Spinner label="Loading accounts…" />}
      {accounts.data && (
        <Table<AccountView>
          rows={accounts.data}
          keyOf={(a) => a.id}
          columns={[
            { label: 'Name', cell: (a) => <strong>{a.name}</strong> },
            { label: 'Role', cell: (a) => <span class={`badge ${a.role === 'admin' ? 'busy' : 'quiet'}`}>{a.role}</span> },
            { label: 'Created', cell: (a) => when(a.created_at) },
            {
              label: 'Actions',
              cell: (a) => (
                <button class="button danger" onClick={() => confirm(`Revoke ${a.name}? Its token stops working at once.`) && void act(() => account.api.request('DELETE', `/1.0/accounts/${a.id}`))}>
                  Revoke
                </button>
              ),
            },
          ]}
        />
      )}
    </Section>
  );
}
