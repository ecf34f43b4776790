//! A rough benchmark: a realistic 5 KB page rendered 1,000 times. Prints the time per render
//! (`cargo test -p orbit-markdown --test bench -- --nocapture`; add `--release` for numbers
//! that mean something). No assertion on speed.

use std::time::Instant;

use orbit_markdown::CommonMarkRenderer;
use orbit_ports::MarkdownRenderer;

const PAGE: &str = r#"# Payments service

The **payments service** moves money between ledgers. It owns the `payments` database and
publishes events on the `payments.v1` topic. See the [runbook](runbooks/payments.md) and the
[dashboard](https://grafana.example.com/d/payments?orgId=1&refresh=30s) before changing it.

> [!NOTE]
> On call? Start with the *Incidents* section below.

## Getting started

1. Clone the repository and install the toolchain:

   ```sh
   git clone https://git.example.com/payments.git
   cd payments && make setup
   ```

2. Start the dependencies with `docker compose up -d`.
3. Run the tests:

   ```rust
   #[test]
   fn settles_a_payment() {
       let ledger = Ledger::in_memory();
       let payment = Payment::new(Amount::eur(12_50), "acct-1", "acct-2");
       assert_eq!(ledger.settle(&payment), Ok(Settled { id: payment.id }));
   }
   ```

## Architecture

| Component | Owner | Language | On call |
|:----------|:-----:|---------:|---------|
| API gateway | @team-edge | Go | yes |
| Ledger | @team-payments | Rust | yes |
| Reconciler | @team-payments | Rust | no |
| Reports | @team-data | Python | no |

The ledger is the only writer of balances; everything else reads from the replica. Amounts
are integers in minor units (cents), *never* floats. Currency conversion happens in the
gateway, ~~not in the ledger~~ since v2.

Writes go through a single `Ledger::apply` entry point that checks invariants (no negative
balance without an overdraft agreement, no movement on a frozen account) inside the same
transaction that records the movement. Reads that need to be exact, like the balance shown
before a transfer, go to the primary; everything else tolerates a few seconds of lag.

### Events

- `payment.created`: a payment was accepted and is pending.
- `payment.settled`: both ledgers were updated.
- `payment.failed`: settlement failed; see `reason`.
  - `insufficient_funds`
  - `account_frozen`
  - `timeout` (retried three times with backoff)

## Checklist for a release

- [x] Changelog updated
- [x] Migrations reviewed by a second person
- [ ] Dashboards checked after the canary
- [ ] Announce in #payments-releases

## Incidents

<details>
<summary>Settlement is slow</summary>

Check the replica lag first: `SELECT now() - pg_last_xact_replay_timestamp();`. If it is
above 30 s, fail over following the [database runbook](runbooks/db.md#failover).

</details>

When in doubt, page the on-call engineer through the escalation policy. Do not retry failed
settlements by hand: the reconciler does it, and a manual retry can pay twice. Keep the
incident channel updated every 30 minutes, even if nothing changed.

### Known issues

1. Reports lag by up to an hour at month end.
2. The sandbox does not support SEPA instant transfers.
3. Refunds older than 180 days need a manual approval from finance.

![Architecture diagram](images/payments-architecture.png "Payments architecture")

## Configuration

The service reads its configuration from the environment. Defaults suit local development;
production values live in the deployment repository, never in this one.

| Variable | Default | Meaning |
|----------|---------|---------|
| `PAYMENTS_DATABASE_URL` | `postgres://localhost/payments` | The primary database. |
| `PAYMENTS_REPLICA_URL` | *(none)* | Read replica; reads go to the primary without it. |
| `PAYMENTS_MAX_BATCH` | `500` | Payments settled per transaction. |
| `PAYMENTS_RETRY_LIMIT` | `3` | Settlement attempts before `payment.failed`. |
| `RUST_LOG` | `info` | Log filter, e.g. `payments=debug,sqlx=warn`. |

A minimal configuration for a staging run:

```toml
[database]
url = "postgres://payments@staging-db/payments"
pool_size = 16

[settlement]
max_batch = 250
retry_limit = 5
```

## FAQ

**Can I settle a payment twice?** No. Settlement is idempotent on the payment id: the second
attempt returns the first result. This is enforced by a unique index, not by application code.

**Why are amounts integers?** Floating point cannot represent most decimal fractions exactly;
`0.1 + 0.2 != 0.3`. Integers in minor units avoid rounding drift across millions of payments.

**Where do I report a bug?** Open an issue with the `payments` label, including the payment
id, the time (UTC) and what you expected to happen.

## Glossary

- **Ledger**: the append-only record of every balance change, one row per movement.
- **Settlement**: moving a pending payment into both ledgers in one transaction.
- **Reconciliation**: comparing our ledger with the bank's statement every night and
  opening a ticket for each difference larger than one cent.
- **Minor unit**: the smallest unit of a currency (a cent for EUR, a yen for JPY).
- **Canary**: the first 5% of traffic that a new release serves for 30 minutes before the
  rollout continues, with automatic rollback if the error rate doubles.

## Contacts

Questions go to <payments@example.com> or the #payments channel. For security issues use
<security@example.com> instead &mdash; never a public channel.

---

*Last reviewed: 2024-05-01 by the payments team.*
"#;

#[test]
fn render_a_five_kilobyte_page_a_thousand_times() {
    assert!(
        (4_000..6_000).contains(&PAGE.len()),
        "page is {} bytes",
        PAGE.len()
    );
    let renderer = CommonMarkRenderer::new();
    let first = renderer.render(PAGE);
    assert_eq!(first.headings.len(), 11);
    assert!(first.html.contains("<table>"));
    let runs = 1_000;
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..runs {
        bytes += renderer.render(PAGE).html.len();
    }
    let elapsed = start.elapsed();
    assert_eq!(bytes, first.html.len() * runs);
    eprintln!(
        "bench: {runs} renders of a {} byte page in {elapsed:.2?}: {:.1?} per render ({} build)",
        PAGE.len(),
        elapsed / runs as u32,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}
