import { useState } from 'preact/hooks';
import type { Account } from '../auth';
import { useLoad } from '../live';
import { Empty, ProblemBox, Section, Spinner } from '../ui';

export type ScreenChoice = 'fit' | { width: number; height: number };

export const SCREEN_CHOICES: { label: string; value: ScreenChoice }[] = [
  { label: 'Fit the window', value: 'fit' },
  { label: '1920 × 1080', value: { width: 1920, height: 1080 } },
  { label: '1280 × 720', value: { width: 1280, height: 720 } },
  { label: '854 × 480', value: { width: 854, height: 480 } },
];

export function Applications({ account, onStart }: { account: Account; onStart: (app: string, screen: ScreenChoice, microphone: boolean) => void }) {
  const apps = useLoad(() => account.api.applications());
  const [choice, setChoice] = useState(0);
  const [microphone, setMicrophone] = useState(false);
  return (
    <Section
      title="Applications"
      aside={
        <span class="section-tools">
          <label class="inline-field">
            <input type="checkbox" checked={microphone} onChange={(e) => setMicrophone((e.target as HTMLInputElement).checked)} />
            Microphone
          </label>
          <label class="inline-field">
            Screen
            <select value={choice} onChange={(e) => setChoice(Number((e.target as HTMLSelectElement).value))} aria-label="Screen size">
              {SCREEN_CHOICES.map((c, i) => (
                <option key={c.label} value={i}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
        </span>
      }
    >
      {apps.problem && <ProblemBox problem={apps.problem} />}
      {apps.loading && <Spinner label="Loading applications…" />}
      {apps.data?.length === 0 && (
        <Empty title="No application can be streamed yet">
          An administrator adds one with <code>streamstack app create examples/test-pattern.json</code>.
        </Empty>
      )}
      <ul class="cards">
        {apps.data?.map((app) => (
          <li key={app.name} class="card app-card">
            <span class="app-icon" aria-hidden="true">
              {app.name.slice(0, 1).toUpperCase()}
            </span>
            <span class="app-name">{app.name}</span>
            <button class="button primary" data-app={app.name} onClick={() => onStart(app.name, SCREEN_CHOICES[choice].value, microphone)}>
              Start
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}
