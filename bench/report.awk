# bench/report.awk - bench/run's report: reads the figures bench/run
# recorded, one per line, writes the tables of RESULTS.md to the file
# named by -v out, and prints the lines for machines on stdout.
#
# Records (SRV a server's name, REP a repetition):
#   what SRV TEXT | unavailable SRV TEXT | seen SRV TEXT
#   rate SRV CASE REP MSGS_PER_S       (CASE 1, 100, 1000 or idle)
#   cpu SRV CASE REP US MSGS           (the server's CPU time in the run)
#   heap SRV REP B | rss SRV REP B | sizeof SRV B
#   syscalls SRV COUNT MSGS | faults SRV COUNT MSGS
#   instr SRV IR1 IR2 DMSGS | instr_idle SRV IR1 IR2 DMSGS
#   fail SRV WHAT TEXT
#   skip SRV CASE TEXT                 (a case the server cannot run)
# The -v variables (servers, reps, ...) describe the run.
#
# Divided into: reading, arithmetic, the tables, the machine lines.

# ---- Reading -------------------------------------------------------------

# The words from the Nth on, as one string.
function rest(n,    s, i) {
	s = $n
	for (i = n + 1; i <= NF; i++)
		s = s " " $i
	return s
}

$1 == "what" || $1 == "unavailable" || $1 == "seen" { info[$1, $2] = rest(3) }
$1 == "rate" { rate[$2, $3, $4] = $5; seen_case[$3] = 1 }
$1 == "cpu" { if ($6 > 0) cpu_us[$2, $3, $4] = $5 / $6 }
$1 == "heap" || $1 == "rss" { mem[$1, $2, $3] = $4 }
$1 == "sizeof" { size[$2] = $3 }
$1 == "syscalls" || $1 == "faults" { if ($4 > 0) count[$1, $2] = $3 / $4 }
$1 == "instr" || $1 == "instr_idle" { if ($5 > 0) count[$1, $2] = ($4 - $3) / $5 }
$1 == "fail" { fails[++nfails] = "- " $2 " (" $3 "): " rest(4) }
$1 == "skip" { skips[++nskips] = "- " $2 " (" $3 "): " rest(4); skipped[$2, $3] = 1 }

# ---- Arithmetic ----------------------------------------------------------

# The median of v[1..n] (sorted in place).
function median(v, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# The cell of SRV's rate in CASE: the median ratio to epoll, with the
# median rate.
function rate_cell(srv, c,    r, n, m, rates, ratios, nr) {
	n = m = 0
	for (r = 1; r <= reps; r++) {
		if (!((srv, c, r) in rate))
			continue
		rates[++n] = rate[srv, c, r]
		if ((("epoll", c, r) in rate) && rate["epoll", c, r] > 0)
			ratios[++m] = rate[srv, c, r] / rate["epoll", c, r]
	}
	if (n == 0)
		return failed(srv, c) ? "fail" : \
		       ((srv, c) in skipped ? "not run" : "n/a")
	nr = sprintf("%d/s", median(rates, n))
	return m == 0 ? "n/a (" nr ")" : sprintf("%.2f (%s)", median(ratios, m), nr)
}

# The median over the repetitions of SRV's CPU time per message in CASE
# over epoll's in the same repetition, or "" when there is none.
function cpu_ratio(srv, c,    r, m, ratios) {
	m = 0
	for (r = 1; r <= reps; r++)
		if (((srv, c, r) in cpu_us) && (("epoll", c, r) in cpu_us) &&
		    cpu_us["epoll", c, r] > 0)
			ratios[++m] = cpu_us[srv, c, r] / cpu_us["epoll", c, r]
	return m == 0 ? "" : sprintf("%.2f", median(ratios, m))
}

# The cell of SRV's CPU time per message in CASE: the ratio to epoll's,
# with the median time in microseconds.
function cpu_cell(srv, c,    r, n, us, q) {
	n = 0
	for (r = 1; r <= reps; r++)
		if ((srv, c, r) in cpu_us)
			us[++n] = cpu_us[srv, c, r]
	if (n == 0)
		return failed(srv, c) ? "fail" : \
		       ((srv, c) in skipped ? "not run" : "n/a")
	q = cpu_ratio(srv, c)
	return (q == "" ? "n/a" : q) sprintf(" (%.2f us)", median(us, n))
}

# The cell of SRV in CASE of the table KIND ("rate" or "cpu").
function case_cell(kind, srv, c) {
	return kind == "rate" ? rate_cell(srv, c) : cpu_cell(srv, c)
}

# A table of KIND with a row per available server, a column per case.
function case_table(kind,    i, s) {
	p("| server | 1 conn | 100 conns | 1,000 conns | 100 + " nidle " idle |")
	p("|---|---|---|---|---|")
	for (i = 1; i <= nsrv; i++) {
		s = srv[i]
		if (!avail[s])
			continue
		p("| " s " | " case_cell(kind, s, 1) " | " \
		  case_cell(kind, s, 100) " | " case_cell(kind, s, 1000) \
		  " | " case_cell(kind, s, "idle") " |")
	}
}

# True if a case of SRV whose name begins with C failed.
function failed(srv, c,    i) {
	for (i = 1; i <= nfails; i++)
		if (index(fails[i], "- " srv " (" c) == 1)
			return 1
	return 0
}

# The median over the repetitions of mem[KIND, SRV, rep], or "n/a".
function mem_cell(kind, srv,    r, n, v) {
	n = 0
	for (r = 1; r <= reps; r++)
		if ((kind, srv, r) in mem)
			v[++n] = mem[kind, srv, r]
	return n == 0 ? "n/a" : sprintf("%d", median(v, n))
}

function count_cell(kind, srv, fmt) {
	return (kind, srv) in count ? sprintf(fmt, count[kind, srv]) : "n/a"
}

function idle_ratio(srv) {
	if (!(("instr", srv) in count) || !(("instr_idle", srv) in count) ||
	    count["instr", srv] <= 0)
		return "n/a"
	return sprintf("%.2f", count["instr_idle", srv] / count["instr", srv])
}

# ---- The tables ----------------------------------------------------------

function backend_cell(srv,    asked) {
	if (srv !~ /^ptio-/)
		return "-"
	asked = srv
	sub(/^ptio-[a-z]+-/, "", asked)
	return "asked PTIO_BACKEND=" asked "; saw " \
	       (("seen", srv) in info ? info["seen", srv] : "n/a")
}

function p(s) { print s > out }

# N with a comma between thousands: 10,000.
function thousands(n) {
	n = sprintf("%d", n)
	while (n ~ /[0-9][0-9][0-9][0-9]/)
		sub(/[0-9][0-9][0-9]($|,)/, ",&", n)
	return n
}

END {
	nsrv = split(servers, srv, " ")
	for (i = 1; i <= nsrv; i++)
		avail[srv[i]] = !(("unavailable", srv[i]) in info)
	nidle = thousands(idle)
	n1 = cg_msgs; sub(/,.*/, "", n1)
	n2 = cg_msgs; sub(/.*,/, "", n2)

	p("# Echo servers compared: ptio and its peers")
	p("")
	p("Made by `" cmdline "` on " date ", in " took " s.  ")
	p("Build: " build ".  ")
	p("Machine: " nproc " CPUs (nproc), " cpu ", " kernel ".  ")
	p("Client: bench/echo-pingpong, a 64-byte ping-pong, one message in " \
	  "flight per connection" (pinned ? "; server on CPU 0, client on CPU 1" : "") ".  ")
	p("Repetitions: " reps " for the rates (" idle_reps " with the idle " \
	  "connections), the servers interleaved in each.")
	p("")
	p("| server | what it is | backend |")
	p("|---|---|---|")
	for (i = 1; i <= nsrv; i++) {
		s = srv[i]
		if (avail[s])
			p("| " s " | " info["what", s] " | " backend_cell(s) " |")
		else
			p("| " s " | " info["unavailable", s] " | - |")
	}

	p("")
	p("## Messages per second, as a ratio to plain epoll")
	p("")
	p("Each figure is the median over the repetitions of the server's " \
	  "rate over `epoll`'s in the same repetition, with the median rate " \
	  "in parentheses; each rate is " duration " ms of ping-pong.  The " \
	  "servers spend most of their time in the kernel and rates swing " \
	  "between runs: compare ratios, and gate on the counts below.")
	p("")
	case_table("rate")

	p("")
	p("## Server CPU time per message, as a ratio to plain epoll")
	p("")
	p("The same runs: the server's CPU time (user and system, from " \
	  "/proc/PID/schedstat) over the ping-pong alone, once every " \
	  "connection is open, per message; the median over the " \
	  "repetitions of its ratio to `epoll`'s in the same repetition, " \
	  "with the median time in parentheses.  Lower is better.  Where " \
	  "the server's CPU is what limits the rate (100 and more " \
	  "connections), this is the rate's ratio turned over, without " \
	  "the swings of the client's and the kernel's scheduling.")
	p("")
	case_table("cpu")

	p("")
	p("## User instructions per message (callgrind)")
	p("")
	p("One server process under callgrind; two phases of " n1 " and " n2 \
	  " messages on each of 100 connections, each phase's count dumped " \
	  "on its own; the difference of the counts over the difference in " \
	  "messages.  Then the same beside " nidle " idle connections.  " \
	  "idle ratio = with idle / without.  Two servers are measured at " \
	  "a time, one on each CPU.")
	p("")
	p("| server | 100 conns | 100 + " nidle " idle | idle ratio |")
	p("|---|---|---|---|")
	for (i = 1; i <= nsrv; i++) {
		s = srv[i]
		if (!avail[s])
			continue
		p("| " s " | " count_cell("instr", s, "%.1f") " | " \
		  count_cell("instr_idle", s, "%.1f") " | " idle_ratio(s) " |")
	}

	p("")
	p("## System calls per message (perf stat)")
	p("")
	split(perf_msgs, pm, ",")
	p("`raw_syscalls:sys_enter` and `page-faults` in the server during " \
	  "one phase of messages on each of 100 connections (perf enabled " \
	  "and disabled through its control fifo around exactly that " \
	  "phase), in two runs, of " pm[1] " and " pm[2] " messages per " \
	  "connection: the difference of the counts over the difference " \
	  "of the messages, so that the phase's start and tail cancel out.")
	p("")
	p("| server | system calls / message | page faults / message |")
	p("|---|---|---|")
	for (i = 1; i <= nsrv; i++) {
		s = srv[i]
		if (!avail[s])
			continue
		p("| " s " | " count_cell("syscalls", s, "%.3f") " | " \
		  count_cell("faults", s, "%.3f") " |")
	}

	p("")
	p("## Memory per idle connection")
	p("")
	p("With " thousands(idle + 100) " connections open and silent (the idle case " \
	  "before its 100 active ones start), over what the server used " \
	  "before its first accept: heap from the server's own report " \
	  "(glibc mallinfo2: chunks in use, headers and rounding included), " \
	  "RSS from /proc/PID/status; the kernel's socket memory is in " \
	  "neither.  Median over " idle_reps " run(s).")
	p("")
	p("| server | heap B / conn | RSS B / conn | sizeof(conn) B |")
	p("|---|---|---|---|")
	for (i = 1; i <= nsrv; i++) {
		s = srv[i]
		if (!avail[s])
			continue
		p("| " s " | " mem_cell("heap", s) " | " mem_cell("rss", s) \
		  " | " (s in size ? size[s] : "n/a") " |")
	}

	p("")
	p("## Notes")
	p("")
	for (i = 1; i <= nsrv; i++) {
		s = srv[i]
		if (s !~ /^ptio-/ || !avail[s] || !(("seen", s) in info))
			continue
		asked = s
		sub(/^ptio-[a-z]+-/, "", asked)
		# What its descriptors should show if it ran what it asked.
		want = asked == "epoll" ? "epoll" : asked == "uring" ? "io_uring" \
		     : asked == "poll" || asked == "select" ? "no epoll" : ""
		if (want != "" && index(info["seen", s], want) != 1)
			p("- " s " asked for " asked " but its descriptors " \
			  "showed " info["seen", s] ": samples/echo-server did " \
			  "not use it, so this row measures another backend.")
	}
	if ("1" in seen_case)
		p("- With one connection a message waits for the other CPU to " \
		  "wake up twice per round trip; on a virtual machine that " \
		  "wake-up, not the server, sets the rate.")
	if (servers ~ /ptio-[a-z]+-poll/)
		p("- Behind a poll(2) backend every wait scans every registered " \
		  "descriptor, so its cost with idle connections depends on how " \
		  "many connections each wait finds ready, which depends on " \
		  "timing.")
	if (avail["libuv"])
		p("- libuv: the echo tries uv_try_write first and queues a " \
		  "copy (a malloc, and an epoll_ctl when libuv's write " \
		  "finishes) only for what the socket did not take.  The " \
		  "guide's 64 KiB malloc per read is replaced by a static " \
		  "buffer (see bench/peer-libuv.c).")
	if (avail["uring"])
		p("- io_uring: one io_uring_enter submits the sends and waits " \
		  "for the next completions of every busy connection at once.")
	if (servers ~ /uring/)
		p("- callgrind's counts for servers on io_uring (uring, " \
		  "ptio-*-uring) are unreliable: valgrind 3.19 does not " \
		  "follow io_uring's shared rings, so work the kernel does " \
		  "for the ring is missed and a phase's count can even be " \
		  "negative.  Their system calls per message (perf) are " \
		  "exact.")
	p("")
	if (nskips > 0) {
		p("## Not run")
		p("")
		for (i = 1; i <= nskips; i++)
			p(skips[i])
		p("")
	}
	p("## Failures")
	p("")
	if (nfails == 0)
		p("None.")
	for (i = 1; i <= nfails; i++)
		p(fails[i])
	close(out)

	# ---- The machine lines -------------------------------------------
	for (i = 1; i <= nsrv; i++)
		print "instr_per_msg", srv[i], count_cell("instr", srv[i], "%.1f")
	for (i = 1; i <= nsrv; i++)
		print "syscalls_per_msg", srv[i], count_cell("syscalls", srv[i], "%.3f")
	for (i = 1; i <= nsrv; i++)
		print "heap_per_conn", srv[i], avail[srv[i]] ? mem_cell("heap", srv[i]) : "n/a"
	for (i = 1; i <= nsrv; i++)
		print "idle_ratio", srv[i], idle_ratio(srv[i])
	for (i = 1; i <= nsrv; i++)
		print "cpu_ratio_idle", srv[i], \
		      cpu_ratio(srv[i], "idle") == "" ? "n/a" : cpu_ratio(srv[i], "idle")
}
