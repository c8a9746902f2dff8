/** Styles shared by the UI's shadow roots. Tokens (`--bh-*`) come from public/base.css. */
import { css } from 'lit'

export const base = css`
  :host { font-family: var(--bh-font); color: var(--bh-text); }
  *, *::before, *::after { box-sizing: border-box; }
  a { color: var(--bh-primary); text-decoration: none; }
  a:hover { color: var(--bh-primary-strong); text-decoration: underline; }
  h1, h2, h3, h4 { margin: 0; line-height: 1.25; color: var(--bh-text); }
  h1 { font-size: 1.6rem; font-weight: 700; letter-spacing: -0.01em; }
  h2 { font-size: 1.15rem; font-weight: 650; }
  h3 { font-size: 1rem; font-weight: 650; }
  p { margin: 0; }
  code, .mono { font-family: var(--bh-mono); font-size: 0.92em; }
  .muted { color: var(--bh-muted); }
  .small { font-size: 0.85rem; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  :focus-visible { outline: 2px solid var(--bh-primary); outline-offset: 2px; border-radius: 4px; }
`

export const card = css`
  .card {
    background: var(--bh-surface);
    border: 1px solid var(--bh-border);
    border-radius: var(--bh-radius);
    box-shadow: var(--bh-shadow);
  }
  .card-header { display: flex; align-items: center; justify-content: space-between; gap: 0.75rem; padding: 0.9rem 1.1rem; border-bottom: 1px solid var(--bh-border); }
  .card-body { padding: 1rem 1.1rem; }
  .page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 1rem; flex-wrap: wrap; margin-bottom: 1.25rem; }
  .page-head p { margin-top: 0.3rem; color: var(--bh-muted); }
`

export const badges = css`
  .badge {
    display: inline-flex; align-items: center; gap: 0.3rem;
    padding: 0.1rem 0.5rem; border-radius: 999px; border: 1px solid transparent;
    font-size: 0.75rem; font-weight: 600; line-height: 1.4; white-space: nowrap; letter-spacing: 0.01em;
  }
  .badge.solid { background: var(--bh-primary); color: #fff; }
  .badge.proxied { background: var(--bh-primary-soft); color: var(--bh-primary-strong); border-color: #bfdbfe; }
  .badge.local { background: var(--bh-violet-soft); color: var(--bh-violet); border-color: #ddd6fe; }
  .badge.both { background: var(--bh-teal-soft); color: var(--bh-teal); border-color: #99f6e4; }
  .badge.clear { background: var(--bh-green-soft); color: var(--bh-green); border-color: #bbf7d0; }
  .badge.blocked { background: var(--bh-red-soft); color: var(--bh-red); border-color: #fecaca; }
  .badge.yanked { background: var(--bh-amber-soft); color: var(--bh-amber); border-color: #fde68a; }
  .badge.prerelease { background: transparent; color: var(--bh-amber); border-color: #fcd34d; font-style: normal; }
  .badge.not-proxied { background: transparent; color: var(--bh-muted); border: 1px dashed var(--bh-border-strong); }
  .badge.neutral { background: var(--bh-surface-2); color: var(--bh-text-2); border-color: var(--bh-border); }
  .badge.warn { background: var(--bh-amber-soft); color: var(--bh-amber); border-color: #fde68a; }
  .badge.admin { background: #fef2f2; color: var(--bh-red); border-color: #fecaca; }
  .dot { width: 0.45rem; height: 0.45rem; border-radius: 50%; background: currentColor; display: inline-block; }
`

export const buttons = css`
  .btn {
    display: inline-flex; align-items: center; justify-content: center; gap: 0.4rem;
    height: 2.25rem; padding: 0 0.9rem; border-radius: var(--bh-radius-sm);
    border: 1px solid var(--bh-border-strong); background: var(--bh-surface); color: var(--bh-text);
    font: inherit; font-size: 0.9rem; font-weight: 550; cursor: pointer; white-space: nowrap;
    transition: background 0.12s, border-color 0.12s;
  }
  .btn:hover:not(:disabled) { background: var(--bh-surface-2); border-color: var(--bh-muted); text-decoration: none; }
  .btn:disabled { opacity: 0.55; cursor: not-allowed; }
  .btn.primary { background: var(--bh-primary); border-color: var(--bh-primary); color: #fff; }
  .btn.primary:hover:not(:disabled) { background: var(--bh-primary-strong); border-color: var(--bh-primary-strong); }
  .btn.danger { color: var(--bh-red); border-color: #fca5a5; }
  .btn.danger:hover:not(:disabled) { background: var(--bh-red-soft); }
  .btn.small { height: 1.85rem; padding: 0 0.6rem; font-size: 0.82rem; }
  .btn.ghost { border-color: transparent; background: transparent; }
`

export const forms = css`
  label { display: block; font-size: 0.85rem; font-weight: 600; color: var(--bh-text-2); margin-bottom: 0.3rem; }
  input[type='text'], input[type='search'], input[type='password'], select, textarea {
    width: 100%; height: 2.25rem; padding: 0 0.7rem; font: inherit; font-size: 0.92rem; color: var(--bh-text);
    background: var(--bh-surface); border: 1px solid var(--bh-border-strong); border-radius: var(--bh-radius-sm);
  }
  textarea { height: auto; min-height: 5rem; padding: 0.5rem 0.7rem; resize: vertical; }
  input:focus, select:focus, textarea:focus { outline: none; border-color: var(--bh-primary); box-shadow: 0 0 0 3px rgb(37 99 235 / 0.18); }
  .field { margin-bottom: 0.9rem; }
  .hint { font-size: 0.8rem; color: var(--bh-muted); margin-top: 0.3rem; }
`

export const tables = css`
  .table-wrap { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
  th {
    text-align: left; font-size: 0.72rem; font-weight: 650; text-transform: uppercase; letter-spacing: 0.05em;
    color: var(--bh-muted); padding: 0.6rem 0.9rem; border-bottom: 1px solid var(--bh-border); background: var(--bh-surface-2);
    white-space: nowrap;
  }
  td { padding: 0.65rem 0.9rem; border-bottom: 1px solid var(--bh-border); vertical-align: middle; }
  tbody tr:last-child td { border-bottom: none; }
  tbody tr:hover td { background: #f8fbff; }
  th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.name { font-family: var(--bh-mono); font-size: 0.88rem; font-weight: 550; overflow-wrap: break-word; }
  td .sub { display: block; font-family: var(--bh-font); font-size: 0.8rem; color: var(--bh-muted); font-weight: 400; }
  @media (max-width: 720px) {
    table.responsive thead { display: none; }
    table.responsive, table.responsive tbody, table.responsive tr, table.responsive td { display: block; width: 100%; }
    table.responsive tr { padding: 0.6rem 0.9rem; border-bottom: 1px solid var(--bh-border); }
    table.responsive tbody tr:last-child { border-bottom: none; }
    table.responsive td { border: none; padding: 0.15rem 0; text-align: left; }
    table.responsive td[data-label]::before {
      content: attr(data-label); display: inline-block; min-width: 7.5rem; color: var(--bh-muted); font-style: normal;
      font-family: var(--bh-font); font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.04em; font-weight: 600;
    }
    table.responsive td.num { text-align: left; }
    table.responsive td.hide-narrow { display: none; }
  }
`

export const states = css`
  .state { text-align: center; padding: 2.5rem 1.25rem; color: var(--bh-muted); }
  .state h3 { color: var(--bh-text); margin-bottom: 0.35rem; }
  .state p { max-width: 32rem; margin: 0 auto; }
  .state .actions { margin-top: 1rem; display: flex; gap: 0.5rem; justify-content: center; flex-wrap: wrap; }
  .state.error h3 { color: var(--bh-red); }
  .state-icon { width: 2.5rem; height: 2.5rem; margin: 0 auto 0.75rem; color: var(--bh-border-strong); }
  .state.error .state-icon { color: #fca5a5; }
  .notice { display: flex; gap: 0.6rem; align-items: flex-start; padding: 0.7rem 0.9rem; border-radius: var(--bh-radius-sm); font-size: 0.88rem; border: 1px solid; }
  .notice.warn { background: var(--bh-amber-soft); border-color: #fde68a; color: #78350f; }
  .notice.error { background: var(--bh-red-soft); border-color: #fecaca; color: #7f1d1d; }
  .notice.info { background: var(--bh-primary-soft); border-color: #bfdbfe; color: #1e3a8a; }
  .loading { display: flex; align-items: center; justify-content: center; gap: 0.6rem; padding: 2rem; color: var(--bh-muted); }
  .spinner { width: 1.1rem; height: 1.1rem; border: 2px solid var(--bh-border); border-top-color: var(--bh-primary); border-radius: 50%; animation: spin 0.8s linear infinite; }
  @keyframes spin { to { transform: rotate(360deg); } }
`

export const shared = [base, card, badges, buttons, forms, tables, states]
