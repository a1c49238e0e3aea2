# table.awk: the benchmark's RESULT lines -> one table, tickerd vs floor vs
# Nchan vs the Node peers (ws, Socket.IO), with ratios and a verdict against
# the issue's targets.  The sse-* scenarios (EventSource readers, tickerd
# only) are judged against tickerd's WebSocket figures for the same load; the
# two-process ones (idle2, steady2, smoke2) against the floor on as many
# processes, and breaking2 against the one-process floor's breaking.  A
# "MISSING TARGET why" line makes that target's column read "missing".
#   awk -f table.awk raw.txt
function num(s, t, k) { return ((s, t, k) in R) ? R[s, t, k] + 0 : "" }
function have(s, t, k) { return ((s, t, k) in R) }
function cell(s, t, k, f) {
	return have(s, t, k) ? sprintf(f, R[s, t, k]) : t in missing ? "missing" : "n/a"
}
# The columns: tickerd, floor and nchan always; a peer once it ran or is missing.
function columns(   all, n, i) {
	n = split("tickerd floor nchan ws sio", all, " ")
	ncol = 0
	for (i = 1; i <= n; i++)
		if (i <= 3 || (all[i] in ran) || (all[i] in missing))
			col[++ncol] = all[i]
}
# A row's figure and ratio cells, every column (only tickerd's with only_t).
function cells(s, k, f, only_t,   i, out) {
	out = ""
	for (i = 1; i <= ncol; i++)
		out = out sprintf(" %10s", only_t && i > 1 ? "n/a" : cell(s, col[i], k, f))
	for (i = 2; i <= ncol; i++)
		out = out sprintf(" %8s", only_t ? "n/a" : ratio(s, "tickerd", col[i], k))
	return out
}
function ratio(s, a, b, k) {
	if (!have(s, a, k) || !have(s, b, k) || R[s, b, k] + 0 == 0)
		return "n/a"
	return sprintf("%.2f", R[s, a, k] / R[s, b, k])
}
# How many of target t's runs of scenario s had figure k <= lim: "k/n".
function runs_le(s, t, k, lim,   key, i, c) {
	key = s SUBSEP t SUBSEP k
	for (i = 1; i <= N[key]; i++)
		c += V[key, i] + 0 <= lim
	return N[key] ? sprintf("%d/%d", c, N[key]) : ""
}
# The storm's row: in how many runs every client was back within lim ms,
# each column; tickerd's verdict: in at least frac of its runs.
function storm_runs_row(s, lim, frac,   i, out, c, v) {
	out = ""
	for (i = 1; i <= ncol; i++) {
		c = runs_le(s, col[i], "storm_max_ms", lim)
		out = out sprintf(" %10s", c == "" ? (col[i] in missing ? "missing" : "n/a") : c)
	}
	for (i = 2; i <= ncol; i++)
		out = out sprintf(" %8s", "")
	c = runs_le(s, "tickerd", "storm_max_ms", lim)
	split(c, v, "/")
	printf "%-10s %-34s%s  %-16s %s\n", shown[s], "runs all back within " lim " ms", out,
	    ">= " (frac * 10) " of 10", c == "" ? "n/a" : (v[1] >= frac * v[2] ? "ok" : "MISS")
}
# verdict for tickerd: kind is "le_floor" (ratio <= lim), "ge_floor",
# "le" (absolute <= lim), "lt", "eq" (== lim), "all" (complete == clients)
function verdict(s, k, kind, lim,   v, r) {
	if (!have(s, "tickerd", k))
		return "n/a"
	v = R[s, "tickerd", k] + 0
	if (kind == "le_floor" || kind == "ge_floor") {
		r = ratio(s, "tickerd", "floor", k)
		if (r == "n/a")
			return "n/a"
		return (kind == "le_floor" ? r + 0 <= lim : r + 0 >= lim) ? "ok" : "MISS"
	}
	if (kind == "le") return v <= lim ? "ok" : "MISS"
	if (kind == "lt") return v < lim ? "ok" : "MISS"
	if (kind == "eq") return v == lim ? "ok" : "MISS"
	if (kind == "all") return v == R[s, "tickerd", "clients"] + 0 ? "ok" : "MISS"
	return ""
}
function row(s, label, k, f, kind, lim, goal,   i, any) {
	for (i = 1; i <= ncol; i++)
		any = any || have(s, col[i], k)
	if (!any)
		return
	printf "%-10s %-34s%s  %-16s %s\n", shown[s], label, cells(s, k, f, 0),
	    goal, kind ? verdict(s, k, kind, lim) : ""
}
# EventSource (scenario s) / WebSocket (scenario ws), tickerd's figure k:
# the median of the per-round ratios when both ran the same rounds (run.sh
# runs them in turn, round by round), else the ratio of the medians.
function ws_ratio(s, ws, k,   n, i, b, x) {
	if (!have(s, "tickerd", k) || !have(ws, "tickerd", k))
		return "n/a"
	n = N[s, "tickerd", k]
	if (n > 1 && n == N[ws, "tickerd", k]) {
		for (i = 1; i <= n; i++) {
			b = V[ws, "tickerd", k, i] + 0
			if (b == 0)
				return "n/a"
			x[i] = (V[s, "tickerd", k, i] + 0) / b
		}
		return sprintf("%.2f", median_of(x, n))
	}
	if (R[ws, "tickerd", k] + 0 == 0)
		return "n/a"
	return sprintf("%.2f", R[s, "tickerd", k] / R[ws, "tickerd", k])
}
# An EventSource row: tickerd's figure (the floor and Nchan have none) and,
# with lim, a verdict on its ratio to WebSocket's (<= lim).
function sse_row(s, label, k, f, kind, lim, goal,   r, v) {
	if (!have(s, "tickerd", k))
		return
	v = ""
	if (kind == "le_ws") {
		r = ws_ratio(s, ws_of[s], k)
		v = r == "n/a" ? "n/a" : (r + 0 <= lim ? "ok" : "MISS")
	} else if (kind) {
		v = verdict(s, k, kind, lim)
	}
	printf "%-10s %-34s%s  %-16s %s\n", shown[s], label, cells(s, k, f, 1), goal, v
}
# tickerd on several processes (scenario s) against the floor on one
# (scenario one, same run): the ratio of figure k, a verdict at <= lim.
function one_proc_row(s, k, one, lim, goal,   r) {
	if (!have(s, "tickerd", k) || !have(one, "floor", k) || R[one, "floor", k] + 0 == 0)
		r = "n/a"
	else
		r = sprintf("%.2f", R[s, "tickerd", k] / R[one, "floor", k])
	printf "%-10s %-34s %-" (11 * ncol + 9 * (ncol - 1)) "s  %-16s %s\n", shown[s],
	    "  tickerd 2p / floor 1p (" one ")", sprintf(" %10s", r),
	    goal, r == "n/a" ? "n/a" : (r + 0 <= lim ? "ok" : "MISS")
}
# The ratio row under an EventSource figure: EventSource / WebSocket.
function ws_row(s, k,   r) {
	if (!have(s, "tickerd", k))
		return
	r = ws_ratio(s, ws_of[s], k)
	printf "%-10s %-34s %10s\n", shown[s], "  EventSource / WebSocket (" ws_of[s] ")", r
}
# Every RESULT line adds one value per key; a scenario run in several rounds
# shows the median of its rounds.
/^RESULT / {
	s = ""; t = ""
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "scenario") s = kv[2]
		else if (kv[1] == "target") t = kv[2]
	}
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		key = s SUBSEP t SUBSEP kv[1]
		V[key, ++N[key]] = kv[2]
	}
	rounds[s, t]++
	seen[s] = 1
	ran[t] = 1
}
/^MISSING / {
	missing[$2] = substr($0, length($1 " " $2 " ") + 1)
}
function median(key,   n, i, a) {
	n = N[key]
	for (i = 1; i <= n; i++) a[i] = V[key, i]
	if (n == 1 || a[1] !~ /^-?[0-9.]+$/) return a[1]
	return median_of(a, n)
}
# The median of a[1..n] (numbers; a is sorted in place).
function median_of(a, n,   i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]
		a[j + 1] = x
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	for (key in N) R[key] = median(key)
	shown["steady"] = "steady"; shown["burst"] = "burst"; shown["idle"] = "idle"
	shown["breaking"] = "breaking"; shown["storm"] = "storm"; shown["ingest"] = "ingest"
	shown["storm-haproxy"] = "storm/hap"
	shown["smoke"] = "smoke"
	ws_of["sse-smoke"] = "smoke"; ws_of["sse-steady"] = "steady"; ws_of["sse-idle"] = "idle"
	columns()
	hd = sprintf("%-10s %-34s", "scenario", "figure")
	rule = "---------- ----------------------------------"
	for (i = 1; i <= ncol; i++) {
		hd = hd sprintf(" %10s", col[i])
		rule = rule " ----------"
	}
	for (i = 2; i <= ncol; i++) {
		hd = hd sprintf(" %8s", "t/" col[i])
		rule = rule " --------"
	}
	printf "%s  %-16s %s\n", hd, "target", "tickerd"
	print rule "  ---------------- -------"
	for (s in seen) if (!(s in shown)) shown[s] = s
	order = "smoke sse-smoke smoke2 steady sse-steady steady2 burst idle sse-idle idle2 storm storm-haproxy ingest"
	n = split(order, sc, " ")
	for (j = 1; j <= n; j++) {
		s = sc[j]
		if (!(s in seen)) continue
		if (s == "idle") {
			row(s, "server RSS per connection (B)", "rss_per_conn_b", "%.0f", "le", 1536, "<= 1536 B")
			row(s, "server CPU while idle (%)", "idle_cpu_pct", "%.2f", "lt", 3, "< 3 %")
			row(s, "clients connected", "ready", "%d", "all", 0, "all")
			row(s, "time to connect all (s)", "connect_s", "%.2f")
			shown[s] = "breaking"
			row(s, "latency p100, one item (ms)", "max_ms", "%.1f", "le", 150, "<= 150 ms")
			row(s, "latency p50 (ms)", "p50_ms", "%.1f")
			# what the machine did meanwhile: the generator shares it
			row(s, "server CPU for the item (s)", "cpu_s", "%.3f")
			row(s, "generator CPU meanwhile (s)", "gen_cpu_s", "%.3f")
			row(s, "clients with the item", "complete", "%d", "all", 0, "all")
			continue
		}
		if (s == "sse-steady" || s == "sse-smoke") {
			sse_row(s, "server CPU per delivery (us)", "us_per_delivery", "%.2f", "le_ws", 1.15, "<= 1.15 x ws")
			ws_row(s, "us_per_delivery")
			sse_row(s, "latency p99 (ms)", "p99_ms", "%.2f")
			ws_row(s, "p99_ms")
			sse_row(s, "latency p50 (ms)", "p50_ms", "%.2f")
			sse_row(s, "latency p100 (ms)", "max_ms", "%.2f")
			sse_row(s, "readers with every item", "complete", "%d", "all", 0, "all")
			sse_row(s, "readers dropped by the server", "closed", "%d")
			continue
		}
		if (s == "sse-idle") {
			sse_row(s, "server RSS per reader (B)", "rss_per_conn_b", "%.0f", "le_ws", 1.25, "<= 1.25 x ws")
			ws_row(s, "rss_per_conn_b")
			sse_row(s, "server CPU while idle (%)", "idle_cpu_pct", "%.2f", "lt", 3, "< 3 %")
			sse_row(s, "readers connected", "ready", "%d", "all", 0, "all")
			sse_row(s, "time to connect all (s)", "connect_s", "%.2f")
			sse_row(s, "latency p100, one item (ms)", "max_ms", "%.1f")
			sse_row(s, "readers with the item", "complete", "%d", "all", 0, "all")
			sse_row(s, "readers dropped by the server", "closed", "%d")
			continue
		}
		# Two processes per server, one per core (run.sh: --reuse-port)
		if (s == "idle2") {
			row(s, "server RSS per connection (B)", "rss_per_conn_b", "%.0f", "le", 1536, "<= 1536 B")
			row(s, "server CPU while idle (%)", "idle_cpu_pct", "%.2f", "lt", 3, "< 3 %")
			row(s, "clients connected", "ready", "%d", "all", 0, "all")
			row(s, "time to connect all (s)", "connect_s", "%.2f")
			shown[s] = "breaking2"
			row(s, "latency p100, one item (ms)", "max_ms", "%.1f")
			one_proc_row(s, "max_ms", "idle", 1.0, "<= 1.0 x floor 1p")
			row(s, "latency p50 (ms)", "p50_ms", "%.1f")
			# what the machine did meanwhile: the generator shares it
			row(s, "server CPU for the item (s)", "cpu_s", "%.3f")
			row(s, "generator CPU meanwhile (s)", "gen_cpu_s", "%.3f")
			row(s, "clients with the item", "complete", "%d", "all", 0, "all")
			continue
		}
		if (s == "steady2" || s == "smoke2") {
			row(s, "server CPU per delivery (us)", "us_per_delivery", "%.2f", "le_floor", 1.10, "<= 1.1 x floor")
			row(s, "latency p99 (ms)", "p99_ms", "%.2f")
			row(s, "latency p50 (ms)", "p50_ms", "%.2f")
			row(s, "latency p100 (ms)", "max_ms", "%.2f")
			row(s, "clients with every item", "complete", "%d", "all", 0, "all")
			row(s, "clients dropped by the server", "closed", "%d")
			continue
		}
		if (s == "storm" || s == "storm-haproxy") {
			storm_runs_row(s, 1000, 0.9)
			row(s, "all back (ms), median", "storm_max_ms", "%.1f")
			row(s, "p50 back (ms)", "storm_p50_ms", "%.1f")
			row(s, "server CPU per reconnect (us)", "storm_us_per_client", "%.0f")
			row(s, "clients back", "storm_ready", "%d", "all", 0, "all")
			row(s, "resync snapshots (resume failed)", "storm_snapshots", "%d", "eq", 0, "0")
			row(s, "then got every item", "complete", "%d", "all", 0, "all")
			continue
		}
		if (s == "steady" || s == "smoke") {
			row(s, "server CPU per delivery (us)", "us_per_delivery", "%.2f", "le_floor", 1.15, "<= 1.15 x floor")
			row(s, "latency p99 (ms)", "p99_ms", "%.2f", "le_floor", 1.10, "<= 1.1 x floor")
			row(s, "latency p50 (ms)", "p50_ms", "%.2f")
			row(s, "latency p100 (ms)", "max_ms", "%.2f")
		}
		if (s == "burst") {
			row(s, "deliveries per server CPU-s", "deliveries_per_cpu_s", "%.0f", "ge_floor", 1.0, ">= floor")
			row(s, "server CPU per delivery (us)", "us_per_delivery", "%.2f")
			row(s, "last delivery after (s)", "wall_s", "%.2f")
			row(s, "latency p99 (ms)", "p99_ms", "%.0f")
		}
		if (s == "ingest") {
			row(s, "deliveries missing", "missing", "%d", "eq", 0, "0")
			row(s, "items no client got", "items_never", "%d")
			row(s, "server CPU per delivery (us)", "us_per_delivery", "%.2f")
			row(s, "last delivery after (s)", "wall_s", "%.2f")
			row(s, "latency p99 (ms)", "p99_ms", "%.1f")
		}
		row(s, "clients with every item", "complete", "%d", "all", 0, "all")
		row(s, "clients dropped by the server", "closed", "%d")
	}
	for (t in missing)
		printf "%s: missing: %s\n", t, missing[t]
	if ("idle2" in seen)
		printf "idle2, breaking2, steady2: tickerd and the floor on 2 processes each (SO_REUSEPORT, one per core), clients from 2 generator processes; breaking2's target is against the 1-process floor's breaking\n"
	if ("storm-haproxy" in seen)
		printf "storm/hap: the storm through deploy/haproxy/haproxy.cfg: 2 HAProxy processes on one port, 2 tickerd (--proxy-protocol); CPU is tickerd's and HAProxy's\n"
	for (s in seen) {
		n = rounds[s, "tickerd"] + 0
		if (s == "storm" || s == "storm-haproxy") {
			printf "%s: tickerd %d runs (medians shown), the others one each\n", shown[s], n
			continue
		}
		if (n > 1 && s in ws_of)
			printf "%s: median of %d rounds; EventSource / WebSocket: median of the per-round ratios\n", s, n
		else if (n > 1)
			printf "%s: median of %d rounds (targets run in turn each round)\n", s, n
	}
}
