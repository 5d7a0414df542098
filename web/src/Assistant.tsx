import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, csrfToken, type OrderDecision } from './api';

/** A signal card as the API returns it. */
interface Signal {
  id: string;
  provider: string;
  model: string;
  action: 'buy' | 'sell';
  symbol: string;
  size: number;
  price?: number;
  confidence: number;
  reasoning: string;
  referencePrice?: number;
  status?: string;
  decision?: string;
  pnlIfFollowed?: number;
}
interface Answer {
  runId: string;
  provider: string;
  model: string;
  outcome: 'answered' | 'failed';
  text: string;
  signals: Signal[];
  problems: { index?: number; message: string }[];
  error?: { reason: string; message: string };
}
interface ModelScore {
  provider: string;
  model: string;
  signals: number;
  judged: number;
  hits: number;
  hitRate: number | null;
  pnlIfFollowed: number;
  executed: number;
  rejected: number;
}
interface Turn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  /** The answer an assistant turn came with (its cards). */
  answer?: Answer;
}

let turnIds = 0;

const SECTIONS = ['balance', 'positions', 'orders', 'prices'] as const;
type Section = (typeof SECTIONS)[number];

/** Streams one chat answer (server-sent events): each piece to `onDelta`, the parsed answer at the end. */
async function streamChat(body: unknown, onDelta: (text: string) => void): Promise<Answer> {
  const token = csrfToken();
  const res = await fetch('/api/assistant/chat', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token ? { 'x-csrf-token': token } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!res.ok || !res.body) {
    const j = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(j.message ?? res.statusText);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown;
      if (event === 'delta') onDelta((data as { text: string }).text);
      else if (event === 'answer') return data as Answer;
      else if (event === 'error') throw new Error((data as { message: string }).message);
    }
  }
  throw new Error('the answer stream ended early');
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(0)} %`);

/** One answer's signal cards, each executable (after confirmation) by a role that may trade. */
function Cards({ answer, canTrade, onDone }: { answer: Answer; canTrade: boolean; onDone: () => void }) {
  const [confirming, setConfirming] = useState<Signal | null>(null);
  const [results, setResults] = useState<Record<string, string>>({});
  const execute = async (s: Signal) => {
    setConfirming(null);
    try {
      const r = await api<{ decision: OrderDecision }>('POST', `/api/assistant/signals/${s.id}/execute`, {
        confirm: true,
      });
      const d = r.decision;
      setResults((x) => ({
        ...x,
        [s.id]: d.accepted ? `Placed: order ${d.orderId ?? ''}` : `Rejected by risk: ${d.code} — ${d.detail ?? ''}`,
      }));
    } catch (err) {
      setResults((x) => ({ ...x, [s.id]: err instanceof Error ? err.message : String(err) }));
    }
    onDone();
  };
  if (answer.signals.length === 0 && answer.problems.length === 0) return null;
  return (
    <div className="cards">
      {answer.signals.map((s) => (
        <div key={s.id} className="signal-card" data-testid="signal-card">
          <strong className={s.action === 'buy' ? 'pos' : 'neg'}>{s.action.toUpperCase()}</strong> {s.size} {s.symbol}{' '}
          {s.price !== undefined ? `limit ${s.price}` : 'at market'}
          <span className="muted"> · confidence {pct(s.confidence)}</span>
          <p>{s.reasoning}</p>
          {canTrade && !results[s.id] && (
            <button type="button" data-testid="execute-signal" onClick={() => setConfirming(s)}>
              Execute…
            </button>
          )}
          {results[s.id] && (
            <p className="toast" role="status" data-testid="signal-result">
              {results[s.id]}
            </p>
          )}
        </div>
      ))}
      {answer.problems.map((p) => (
        <p key={`${p.index}-${p.message}`} className="muted" data-testid="signal-problem">
          Suggestion {p.index === undefined ? '' : p.index + 1} not readable: {p.message}
        </p>
      ))}
      {confirming && (
        <div className="dialog" role="dialog" aria-label="confirm signal">
          <p>
            Send {confirming.action} {confirming.size} {confirming.symbol}{' '}
            {confirming.price !== undefined ? `limit ${confirming.price}` : 'at market'} through the risk engine?
          </p>
          <button
            type="button"
            className="danger"
            data-testid="confirm-signal"
            onClick={() => void execute(confirming)}
          >
            Confirm
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}

/** The trading assistant: chat with toggleable context, streamed answers, signal cards, the arena and the scores. */
export function Assistant({ canChat, canTrade }: { canChat: boolean; canTrade: boolean }) {
  const [models, setModels] = useState<{ provider: string; model: string }[]>([]);
  const [provider, setProvider] = useState('');
  const [context, setContext] = useState<Record<Section, boolean>>({
    balance: true,
    positions: true,
    orders: true,
    prices: true,
  });
  const [turns, setTurns] = useState<Turn[]>([]);
  const [streaming, setStreaming] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [arena, setArena] = useState<string[]>([]);
  const [arenaAnswers, setArenaAnswers] = useState<Answer[]>([]);
  const [scores, setScores] = useState<ModelScore[]>([]);

  const loadScores = useCallback(async () => {
    try {
      setScores((await api<{ models: ModelScore[] }>('GET', '/api/assistant/signals')).models);
    } catch {
      setScores([]);
    }
  }, []);

  useEffect(() => {
    void api<{ models: { provider: string; model: string }[] }>('GET', '/api/assistant/models').then((r) => {
      setModels(r.models);
      setProvider(r.models[0]?.provider ?? '');
    });
    void loadScores();
  }, [loadScores]);

  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    const history: Turn[] = [...turns, { id: ++turnIds, role: 'user', content: text.trim() }];
    setTurns(history);
    // A failed answer has no text: it is shown, not sent back.
    const messages = history.filter((t) => t.content).map((t) => ({ role: t.role, content: t.content }));
    setText('');
    setBusy(true);
    setError('');
    try {
      if (arena.length >= 2) {
        const r = await api<{ answers: Answer[] }>('POST', '/api/assistant/arena', {
          messages,
          context,
          providers: arena,
        });
        setArenaAnswers(r.answers);
      } else {
        setStreaming('');
        const a = await streamChat({ messages, context, ...(provider ? { provider } : {}) }, (d) =>
          setStreaming((s) => s + d),
        );
        setStreaming('');
        if (a.outcome === 'answered')
          setTurns([...history, { id: ++turnIds, role: 'assistant', content: a.text, answer: a }]);
        else setError(`${a.provider}: ${a.error?.message ?? 'no answer'}`);
      }
      void loadScores();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  if (models.length === 0) {
    return (
      <main>
        <section className="card wide">
          <h2>Assistant</h2>
          <p className="muted">No LLM provider is configured (config agents.providers, docs/agents.md).</p>
        </section>
      </main>
    );
  }
  return (
    <main>
      {canChat && (
        <section className="card wide" data-testid="assistant-chat">
          <h2>Assistant</h2>
          <div className="chat">
            {turns.map((t) => (
              <div key={t.id} className={`turn ${t.role}`} data-testid={`turn-${t.role}`}>
                <pre>{t.content}</pre>
                {t.answer && <Cards answer={t.answer} canTrade={canTrade} onDone={() => void loadScores()} />}
              </div>
            ))}
            {busy && streaming && (
              <div className="turn assistant" data-testid="streaming">
                <pre>{streaming}</pre>
              </div>
            )}
          </div>
          <form onSubmit={(e) => void send(e)}>
            <fieldset>
              <legend>Context sent</legend>
              {SECTIONS.map((s) => (
                <label key={s}>
                  <input
                    type="checkbox"
                    checked={context[s]}
                    onChange={(e) => setContext({ ...context, [s]: e.target.checked })}
                  />{' '}
                  {s}
                </label>
              ))}
            </fieldset>
            <label>
              Model{' '}
              <select aria-label="model" value={provider} onChange={(e) => setProvider(e.target.value)}>
                {models.map((m) => (
                  <option key={m.provider} value={m.provider}>
                    {m.provider} ({m.model})
                  </option>
                ))}
              </select>
            </label>
            {models.length >= 2 && (
              <fieldset>
                <legend>Arena: ask side by side</legend>
                {models.map((m) => (
                  <label key={m.provider}>
                    <input
                      type="checkbox"
                      aria-label={`arena ${m.provider}`}
                      checked={arena.includes(m.provider)}
                      onChange={(e) =>
                        setArena(e.target.checked ? [...arena, m.provider] : arena.filter((x) => x !== m.provider))
                      }
                    />{' '}
                    {m.provider}
                  </label>
                ))}
              </fieldset>
            )}
            <textarea
              aria-label="message"
              value={text}
              rows={3}
              onChange={(e) => setText(e.target.value)}
              placeholder="Ask about your account or a market…"
            />
            <button type="submit" disabled={busy} data-testid="send">
              {busy ? 'Thinking…' : arena.length >= 2 ? `Ask ${arena.length} models` : 'Send'}
            </button>
          </form>
          {error && (
            <p role="alert" className="neg">
              {error}
            </p>
          )}
          {arenaAnswers.length > 0 && (
            <div className="arena" data-testid="arena">
              {arenaAnswers.map((a) => (
                <div key={a.runId} className="turn assistant" data-testid="arena-answer">
                  <h3>
                    {a.provider} <span className="muted">({a.model})</span>
                  </h3>
                  {a.outcome === 'answered' ? <pre>{a.text}</pre> : <p className="neg">{a.error?.message}</p>}
                  <Cards answer={a} canTrade={canTrade} onDone={() => void loadScores()} />
                </div>
              ))}
            </div>
          )}
        </section>
      )}
      <section className="card wide">
        <h2>Models' signals</h2>
        <table data-testid="model-scores">
          <thead>
            <tr>
              <th>Model</th>
              <th>Signals</th>
              <th>Hit rate</th>
              <th>P&amp;L if followed</th>
              <th>Executed</th>
              <th>Rejected</th>
            </tr>
          </thead>
          <tbody>
            {scores.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No signals yet
                </td>
              </tr>
            )}
            {scores.map((m) => (
              <tr key={`${m.provider}/${m.model}`} data-testid="model-score">
                <td>
                  {m.provider} ({m.model})
                </td>
                <td>{m.signals}</td>
                <td>{pct(m.hitRate)}</td>
                <td className={m.pnlIfFollowed >= 0 ? 'pos' : 'neg'}>{m.pnlIfFollowed.toFixed(2)}</td>
                <td>{m.executed}</td>
                <td>{m.rejected}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
