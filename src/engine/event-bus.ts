import type { DomainEvent, EventBus, EventHandler, EventName } from '../core/events.js';

type AnyHandler = (event: DomainEvent) => void;

/**
 * In-process synchronous event bus. Handlers run in subscription order on the publisher's stack; a throwing
 * subscriber is isolated (reported to `onHandlerError`) so persistence or alerts can never break the order path.
 */
export class InProcessEventBus implements EventBus {
  private readonly handlers = new Map<string, AnyHandler[]>();
  private wildcard: AnyHandler[] = [];
  /** Subscriptions ever made: while none, `hasSubscribers` answers without a map lookup (the backtest path). */
  private subscriptions = 0;

  constructor(private readonly onHandlerError: (err: unknown, event: DomainEvent) => void = () => {}) {}

  publish<N extends EventName>(event: DomainEvent<N>): void {
    const list = this.handlers.get(event.name);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) this.dispatch(list[i], event as DomainEvent);
    }
    const wild = this.wildcard;
    for (let i = 0; i < wild.length; i++) this.dispatch(wild[i], event as DomainEvent);
  }

  subscribe<N extends EventName>(name: N | '*', handler: EventHandler<N> | AnyHandler): () => void {
    const h = handler as AnyHandler;
    this.subscriptions++;
    if (name === '*') {
      this.wildcard = [...this.wildcard, h];
      return () => {
        this.wildcard = this.wildcard.filter((x) => x !== h);
      };
    }
    // Copy-on-write so a handler that unsubscribes during publish does not skip its neighbour.
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), h]);
    return () => {
      this.handlers.set(
        name,
        (this.handlers.get(name) ?? []).filter((x) => x !== h),
      );
    };
  }

  hasSubscribers(name: EventName): boolean {
    if (this.subscriptions === 0) return false;
    return this.wildcard.length > 0 || (this.handlers.get(name)?.length ?? 0) > 0;
  }

  private dispatch(handler: AnyHandler, event: DomainEvent): void {
    try {
      handler(event);
    } catch (err) {
      this.onHandlerError(err, event);
    }
  }
}
