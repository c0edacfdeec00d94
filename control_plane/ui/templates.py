# ruff: noqa: E501  (HTML templates: long lines read better than split tags)
"""The UI's Jinja templates and stylesheet, kept as Python strings so they ship inside the wheel.

Every template autoescapes. No template is ever given a secret value or the signed-in API key."""

from __future__ import annotations

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f6f7fa; --accent: #2f5bd3;
  --ok: #17753a; --warn: #9a6700; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #1d2330; }
header a, header button { color: #e8ecf4; text-decoration: none; }
header .brand { font-weight: 700; letter-spacing: .02em; }
header nav { display: flex; gap: 1rem; flex: 1; }
header form { margin: 0; }
header button { background: none; border: 1px solid #4b5568; border-radius: 4px; padding: .2rem .6rem;
  cursor: pointer; }
main { max-width: 1100px; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f6; font-weight: 600; font-size: .85rem; color: var(--muted); }
td.actions form { display: inline; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
a { color: var(--accent); }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .78rem;
  font-weight: 600; background: #e6e9ef; color: var(--muted); }
.badge.READY, .badge.DEPLOYED, .badge.online { background: #dcf3e3; color: var(--ok); }
.badge.PENDING, .badge.DEPLOYING, .badge.QUEUED, .badge.AWAITING_DEPLOY { background: #fff1cc;
  color: var(--warn); }
.badge.FAILED, .badge.DEPLOY_FAILED, .badge.INTERRUPTED, .badge.DELETING, .badge.offline {
  background: #fde3e1; color: var(--bad); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem;
  margin-bottom: 1rem; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; margin: 0; }
dl.settings dt { color: var(--muted); }
dl.settings dd { margin: 0; }
form.stack label { display: block; font-weight: 600; margin: .8rem 0 .2rem; }
form.stack .hint { font-weight: 400; color: var(--muted); font-size: .82rem; }
input, select, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid #b9c1cf; border-radius: 4px;
  background: #fff; }
form.stack input, form.stack select, form.stack textarea { width: 100%; max-width: 36rem; }
textarea { min-height: 4.5rem; font-family: ui-monospace, monospace; }
.field-error { color: var(--bad); font-size: .85rem; margin-top: .2rem; }
.has-error input, .has-error select, .has-error textarea { border-color: var(--bad); }
button, .button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.alert { padding: .7rem 1rem; border-radius: 6px; margin-bottom: 1rem; border: 1px solid; }
.alert.error { background: #fdecea; border-color: #f5b5ae; color: var(--bad); }
.alert.info { background: #eaf1fd; border-color: #b6cbf5; color: #1f3f91; }
.toolbar { display: flex; gap: .6rem; align-items: center; margin-bottom: 1rem; }
.toolbar .spacer { flex: 1; }
.muted { color: var(--muted); }
.row { display: flex; gap: 1rem; flex-wrap: wrap; }
.row > .card { flex: 1 1 20rem; }
.login { max-width: 26rem; margin: 4rem auto; }
"""

BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% if refresh %}
<noscript><meta http-equiv="refresh" content="{{ refresh }}{% if refresh_url %}; url={{ refresh_url }}{% endif %}"></noscript>
<script id="auto-refresh" data-seconds="{{ refresh }}" data-url="{{ refresh_url or '' }}">
  // reload while something is in flight, but never under someone typing into a form
  (function () {
    var me = document.getElementById("auto-refresh");
    var url = me.dataset.url || location.pathname;
    function tick() {
      var a = document.activeElement;
      var typing = a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.value;
      if (typing) { setTimeout(tick, 1000); } else { location.replace(url); }
    }
    setTimeout(tick, Number(me.dataset.seconds) * 1000);
  })();
</script>
{% endif %}
<title>{% block title %}lgp{% endblock %} · lgp</title>
<link rel="stylesheet" href="/ui/static/ui.css">
</head>
<body>
<header>
  <a class="brand" href="/ui/deployments">lgp</a>
  {% if signed_in %}
  <nav>
    <a href="/ui/deployments">Deployments</a>
    <a href="/ui/deployments/new">New deployment</a>
    <a href="/ui/listeners">Listeners</a>
  </nav>
  <span class="muted">{{ who }}</span>
  <form method="post" action="/ui/logout">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <button type="submit" id="sign-out">Sign out</button>
  </form>
  {% endif %}
</header>
<main>
{% if error %}<div class="alert error" role="alert">{{ error }}</div>{% endif %}
{% if notice %}<div class="alert info" role="status">{{ notice }}</div>{% endif %}
{% block content %}{% endblock %}
</main>
</body>
</html>
"""

LOGIN = """{% extends "base.html" %}
{% block title %}Sign in{% endblock %}
{% block content %}
<div class="card login">
  <h1>Sign in</h1>
  <form class="stack" method="post" action="/ui/login">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <label for="api_key">API key</label>
    <input id="api_key" name="api_key" type="password" autocomplete="off" required>
    <p><button type="submit">Sign in</button></p>
  </form>
  <p class="muted">The key is kept in an HttpOnly cookie for this site only.</p>
</div>
{% endblock %}
"""

DEPLOYMENTS = """{% extends "base.html" %}
{% block title %}Deployments{% endblock %}
{% block content %}
<h1>Deployments</h1>
<form class="toolbar" method="get" action="/ui/deployments">
  <input name="name" placeholder="Filter by name" value="{{ name_filter }}" aria-label="Filter by name">
  <button type="submit" class="secondary">Filter</button>
  <span class="spacer"></span>
  <a class="button" href="/ui/deployments/new">New deployment</a>
</form>
<table id="deployments">
  <thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Image</th><th>Active revision</th>
    <th>Endpoint</th><th>Replicas</th></tr></thead>
  <tbody>
  {% for d in deployments %}
    <tr>
      <td><a href="/ui/deployments/{{ d.id }}">{{ d.name }}</a></td>
      <td>{{ d.type }}</td>
      <td><span class="badge {{ d.status }}">{{ d.status }}</span></td>
      <td class="mono">{{ d.image }}</td>
      <td>{% if d.active_number %}#{{ d.active_number }}{% else %}<span class="muted">none</span>{% endif %}</td>
      <td>{% if d.endpoint and d.endpoint.startswith(("https://", "http://")) %}<a href="{{ d.endpoint }}" rel="noreferrer">{{ d.endpoint }}</a>{% elif d.endpoint %}{{ d.endpoint }}{% else %}
        <span class="muted">-</span>{% endif %}</td>
      <td>{{ d.replicas }}</td>
    </tr>
  {% else %}
    <tr><td colspan="7" class="muted">No deployments{% if name_filter %} match this filter{% endif %}.</td></tr>
  {% endfor %}
  </tbody>
</table>
<p class="muted">{{ count }} deployment{{ "" if count == 1 else "s" }}{% if count > deployments|length %}
  (showing {{ deployments|length }}){% endif %}</p>
{% endblock %}
"""

DEPLOYMENT = """{% extends "base.html" %}
{% block title %}{{ d.name }}{% endblock %}
{% block content %}
<div class="toolbar">
  <h1 style="margin:0">{{ d.name }}</h1>
  <span class="badge {{ d.status }}" id="deployment-status">{{ d.status }}</span>
  <span class="spacer"></span>
  {% if in_flight %}<span class="muted">A revision is in flight: this page refreshes itself.</span>{% endif %}
</div>
{% if why %}
<div class="alert {{ 'error' if why_bad else 'info' }}" id="why"><strong>{{ why.title }}</strong>
  {{ why.text }}</div>
{% endif %}
<div class="row">
  <div class="card">
    <h2 style="margin-top:0">Settings</h2>
    <dl class="settings">
      <dt>Type</dt><dd>{{ d.type }}</dd>
      <dt>Image</dt><dd class="mono" id="image">{{ d.image }}</dd>
      <dt>Listener</dt><dd>{{ listener_name }}</dd>
      <dt>Namespace</dt><dd>{{ d.namespace }}</dd>
      <dt>Endpoint</dt><dd>{{ d.endpoint or "-" }}</dd>
      <dt>Replicas</dt><dd>{{ replicas }}</dd>
      <dt>Ingress host</dt><dd>{{ d.ingress.host if d.ingress and d.ingress.host else "-" }}</dd>
      <dt>Database</dt><dd>{{ d.database.type }}</dd>
      <dt>Redis</dt><dd>{{ d.redis.type }}</dd>
      <dt>Environment</dt><dd>{% for e in d.env %}<div class="mono">{{ e.name }}={{ e.value }}</div>
        {% else %}<span class="muted">none</span>{% endfor %}</dd>
      <dt>Secrets</dt><dd id="secret-names">{% for n in d.secret_names %}<div class="mono">{{ n }}
        <span class="muted">(value hidden)</span></div>{% else %}<span class="muted">none</span>{% endfor %}</dd>
      {% if d.secret_refs %}<dt>Secret refs</dt><dd class="mono">{{ d.secret_refs|join(", ") }}</dd>{% endif %}
    </dl>
  </div>
  <div class="card">
    <h2 style="margin-top:0">New revision</h2>
    <form class="stack {{ 'has-error' if field_errors.image }}" method="post"
          action="/ui/deployments/{{ d.id }}/revisions">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <label for="new-image">Image <span class="hint">(empty: redeploy the current settings)</span></label>
      <input id="new-image" name="image" value="{{ form_image }}" placeholder="{{ d.image }}">
      {% if field_errors.image %}<div class="field-error" id="error-image">{{ field_errors.image }}</div>{% endif %}
      <p><button type="submit" id="create-revision">Deploy new revision</button></p>
    </form>
    <h2>Delete</h2>
    <form class="stack" method="post" action="/ui/deployments/{{ d.id }}/delete"
          onsubmit="return confirm('Delete deployment {{ d.name }}? Its objects in the cluster are removed.')">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <label for="confirm-name">Type the name to confirm</label>
      <input id="confirm-name" name="confirm" autocomplete="off">
      {% if field_errors.confirm %}<div class="field-error">{{ field_errors.confirm }}</div>{% endif %}
      <p><button type="submit" class="danger" id="delete">Delete deployment</button></p>
    </form>
  </div>
</div>

<h2>Revisions</h2>
<table id="revisions">
  <thead><tr><th>#</th><th>Status</th><th>Reason</th><th>Image</th><th>Created</th><th>By</th>
    <th></th></tr></thead>
  <tbody>
  {% for r in revisions %}
    <tr id="revision-{{ r.number }}">
      <td>{{ r.number }}{% if r.id == d.active_revision_id %} <span class="badge">active</span>{% endif %}</td>
      <td><span class="badge status {{ r.status }}">{{ r.status }}</span></td>
      <td>{% if r.status_reason %}<strong>{{ r.status_reason }}</strong>{% endif %}
        {% if r.status_message %}<div class="muted">{{ r.status_message }}</div>{% endif %}
        {% if r.source_revision_number %}<div class="muted">redeploy of #{{ r.source_revision_number }}</div>
        {% endif %}</td>
      <td class="mono">{{ r.config.get("image", "") }}</td>
      <td>{{ r.created_at.strftime("%Y-%m-%d %H:%M:%S") }}</td>
      <td class="mono" title="{{ r.created_by or '' }}">{{ (r.created_by or "")[:8] }}</td>
      <td class="actions">
        {% if r.status in in_flight_statuses %}
        <form method="post" action="/ui/revisions/{{ r.id }}/interrupt">
          <input type="hidden" name="csrf_token" value="{{ csrf }}">
          <button type="submit" class="secondary">Interrupt</button>
        </form>
        {% endif %}
        {% if r.status in redeployable %}
        <form method="post" action="/ui/revisions/{{ r.id }}/redeploy">
          <input type="hidden" name="csrf_token" value="{{ csrf }}">
          <button type="submit" class="secondary">Redeploy</button>
        </form>
        {% endif %}
      </td>
    </tr>
  {% endfor %}
  </tbody>
</table>

<h2>Conditions</h2>
{% if d.conditions %}
<table id="conditions">
  <thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th></tr></thead>
  <tbody>{% for c in d.conditions %}<tr><td>{{ c.get("type", "") }}</td><td>{{ c.get("status", "") }}</td>
    <td>{{ c.get("reason", "") or "" }}</td><td>{{ c.get("message", "") or "" }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}<p class="muted">The listener has reported no conditions yet.</p>{% endif %}

<h2>Latest events</h2>
{% if events %}
<table id="events">
  <thead><tr><th>When</th><th>Kind</th><th>Reason</th><th>Message</th></tr></thead>
  <tbody>{% for e in events %}<tr><td>{{ e.occurred_at.strftime("%Y-%m-%d %H:%M:%S") }}</td><td>{{ e.kind }}</td>
    <td>{{ e.reason or "" }}</td><td>{{ e.message or "" }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}<p class="muted">No events yet.</p>{% endif %}
{% endblock %}
"""

NEW_DEPLOYMENT = """{% extends "base.html" %}
{% block title %}New deployment{% endblock %}
{% block content %}
<h1>New deployment</h1>
{% macro err(field) %}{% if field_errors[field] %}<div class="field-error" id="error-{{ field }}">
  {{ field_errors[field] }}</div>{% endif %}{% endmacro %}
<form class="stack card" method="post" action="/ui/deployments/new" id="new-deployment">
  <input type="hidden" name="csrf_token" value="{{ csrf }}">
  <div class="{{ 'has-error' if field_errors.name }}">
    <label for="name">Name <span class="hint">(lowercase letters, digits and "-", at most 53)</span></label>
    <input id="name" name="name" value="{{ form.name }}" required>{{ err("name") }}
  </div>
  <div class="{{ 'has-error' if field_errors.type }}">
    <label for="type">Type</label>
    <select id="type" name="type">{% for t in types %}<option value="{{ t }}"
      {{ "selected" if form.type == t }}>{{ t }}</option>{% endfor %}</select>{{ err("type") }}
  </div>
  <div class="{{ 'has-error' if field_errors.image }}">
    <label for="image">Image <span class="hint">(repository with a tag or a digest)</span></label>
    <input id="image" name="image" value="{{ form.image }}" required>{{ err("image") }}
  </div>
  <div class="{{ 'has-error' if field_errors.listener_id }}">
    <label for="listener_id">Listener</label>
    <select id="listener_id" name="listener_id">{% for l in listeners %}<option value="{{ l.id }}"
      {{ "selected" if form.listener_id == l.id|string }}>{{ l.name }} ({{ l.namespaces|join(", ") }})</option>
      {% else %}<option value="">no listener registered</option>{% endfor %}</select>{{ err("listener_id") }}
  </div>
  <div class="{{ 'has-error' if field_errors.namespace }}">
    <label for="namespace">Namespace</label>
    <input id="namespace" name="namespace" value="{{ form.namespace }}" required>{{ err("namespace") }}
  </div>
  <div class="{{ 'has-error' if field_errors.replicas }}">
    <label for="replicas">Replicas <span class="hint">(empty: the type's default)</span></label>
    <input id="replicas" name="replicas" value="{{ form.replicas }}" inputmode="numeric">{{ err("replicas") }}
  </div>
  <div class="{{ 'has-error' if field_errors.ingress_host }}">
    <label for="ingress_host">Ingress host <span class="hint">(optional)</span></label>
    <input id="ingress_host" name="ingress_host" value="{{ form.ingress_host }}">{{ err("ingress_host") }}
  </div>
  <div class="{{ 'has-error' if field_errors.env }}">
    <label for="env">Environment <span class="hint">(one NAME=value a line)</span></label>
    <textarea id="env" name="env">{{ form.env }}</textarea>{{ err("env") }}
  </div>
  <div class="{{ 'has-error' if field_errors.secrets }}">
    <label for="secrets">Secrets <span class="hint">(one NAME=value a line; write-only: never shown again
      {%- if secrets_dropped %}; enter them again{% endif %})</span></label>
    <textarea id="secrets" name="secrets" autocomplete="off"></textarea>{{ err("secrets") }}
  </div>
  <p><button type="submit" id="create">Create deployment</button></p>
</form>
{% endblock %}
"""

LISTENERS = """{% extends "base.html" %}
{% block title %}Listeners{% endblock %}
{% block content %}
<h1>Listeners</h1>
<table id="listeners">
  <thead><tr><th>Name</th><th>Namespaces</th><th>Last heartbeat</th><th>State</th></tr></thead>
  <tbody>
  {% for l in listeners %}
    <tr>
      <td>{{ l.name }}</td>
      <td class="mono">{{ l.namespaces|join(", ") }}</td>
      <td>{{ l.last_heartbeat_at.strftime("%Y-%m-%d %H:%M:%S UTC") if l.last_heartbeat_at else "never" }}</td>
      <td><span class="badge {{ 'online' if l.online else 'offline' }}">{{ "online" if l.online else "offline" }}
        </span></td>
    </tr>
  {% else %}
    <tr><td colspan="4" class="muted">No listeners. Register one through the API: <code>POST /v1/listeners</code>.</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}
"""

ERROR = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<h1>{{ title }}</h1>
<p><a href="/ui/deployments">Back to deployments</a></p>
{% endblock %}
"""

TEMPLATES = {
    "base.html": BASE,
    "login.html": LOGIN,
    "deployments.html": DEPLOYMENTS,
    "deployment.html": DEPLOYMENT,
    "new_deployment.html": NEW_DEPLOYMENT,
    "listeners.html": LISTENERS,
    "error.html": ERROR,
}
