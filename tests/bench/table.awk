# table.awk: the benchmark's RESULT lines -> one table, tickerd vs floor vs
# Nchan, with ratios and a verdict against the issue's targets.
#   awk -f table.awk raw.txt
function num(s, t, k) { return ((s, t, k) in R) ? R[s, t, k] + 0 : "" }
function have(s, t, k) { return ((s, t, k) in R) }
function cell(s, t, k, f) { return have(s, t, k) ? sprintf(f, R[s, t, k]) : "n/a" }
function ratio(s, a, b, k) {
	if (!have(s, a, k) || !have(s, b, k) || R[s, b, k] + 0 == 0)
		return "n/a"
	return sprintf("%.2f", R[s, a, k] / R[s, b, k])
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
function row(s, label, k, f, kind, lim, goal) {
	if (!have(s, "tickerd", k) && !have(s, "floor", k) && !have(s, "nchan", k))
		return
	printf "%-9s %-34s %10s %10s %10s %8s %8s  %-16s %s\n", shown[s], label,
	    cell(s, "tickerd", k, f), cell(s, "floor", k, f), cell(s, "nchan", k, f),
	    ratio(s, "tickerd", "floor", k), ratio(s, "tickerd", "nchan", k),
	    goal, kind ? verdict(s, k, kind, lim) : ""
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
}
function median(key,   n, i, j, x, a) {
	n = N[key]
	for (i = 1; i <= n; i++) a[i] = V[key, i]
	if (n == 1 || a[1] !~ /^-?[0-9.]+$/) return a[1]
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
	shown["smoke"] = "smoke"
	printf "%-9s %-34s %10s %10s %10s %8s %8s  %-16s %s\n", "scenario", "figure",
	    "tickerd", "floor", "nchan", "t/floor", "t/nchan", "target", "tickerd"
	print "--------- ---------------------------------- ---------- ---------- ---------- -------- --------  ---------------- -------"
	for (s in seen) if (!(s in shown)) shown[s] = s
	order = "smoke steady burst idle storm ingest"
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
			row(s, "clients with the item", "complete", "%d", "all", 0, "all")
			continue
		}
		if (s == "storm") {
			row(s, "all back (ms)", "storm_max_ms", "%.1f", "le", 1000, "<= 1000 ms")
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
	for (s in seen) {
		n = rounds[s, "tickerd"] + 0
		if (n > 1)
			printf "%s: median of %d rounds (targets run in turn each round)\n", s, n
	}
}
