#!/usr/bin/perl
# doc/gen-man.pl - the API reference: man pages made from the contract
# comments of ptio's public headers.
#
# usage: perl gen-man.pl -o OUTDIR -v VERSION [-w] HEADER...
#
# Writes OUTDIR/man3/*.3, OUTDIR/pages.list (one installed file name per
# line, for make install and make uninstall) and OUTDIR/reference.html,
# every header on one page with an index.  -w lists on stderr the
# declarations that have no comment.  It needs only perl-base.
#
# How a header is read.  It is cut into items: comments, preprocessor
# lines (with their continuations) and C declarations (up to the `;`, or
# the closing brace of an inline function).  The first comment is the
# header's introduction; a comment whose text starts with "----" is a
# section heading.  A comment followed, with no blank line between, by
# declarations documents them: that is a block.  The block goes on over
# further declarations until a blank line or the next comment.  #if,
# #endif and the like are transparent, so a macro defined once per
# branch stays one block.  Declarations that follow a blank line with no
# comment of their own are undocumented: they appear on the header's page
# but get no page of their own, and are listed on stderr with -w.
#
# Which pages.  Each header gets a page named after it (ptio/io.h is
# ptio-io(3), ptio.h is ptio(3), which also indexes the rest).  Each
# documented block gets a page named after its first function, variable
# or function-like macro; every other name in the block (functions,
# macros, types that no function shadows) is an alias page holding
# `.so`.  Names are compared case-blind (man-db looks them up that way),
# so PTIO_READ does not shadow ptio_read.  Names ending in `_` and ptio__
# names are internal and never get pages.  A name declared in two headers
# gets its page from the block whose comment mentions it.
use strict;
use warnings;

my ($outdir, $version, $warn) = ('man', '', 0);
my @headers;
while (@ARGV) {
	my $a = shift @ARGV;
	if ($a eq '-o') { $outdir = shift @ARGV; }
	elsif ($a eq '-v') { $version = shift @ARGV; }
	elsif ($a eq '-w') { $warn = 1; }
	else { push @headers, $a; }
}
die "usage: gen-man.pl -o OUTDIR -v VERSION [-w] HEADER...\n"
	unless @headers;
# ptio.h, the umbrella, first; then the rest by name, each once.
my %seen_header;
@headers = grep { !$seen_header{include_name($_)}++ } @headers;
@headers = sort {
	(include_name($a) ne 'ptio.h') <=> (include_name($b) ne 'ptio.h') ||
	include_name($a) cmp include_name($b)
} @headers;

# ---- reading a header into items --------------------------------------

# The header's name as users include it: the path after "include/".
sub include_name {
	my ($path) = @_;
	$path =~ s{^.*?include/}{};
	return $path;
}

# Cut TEXT into items: { kind => comment|pp|decl, text, line, blank }.
# BLANK says a blank line (or the start of the file) came before it.
sub lex {
	my ($text) = @_;
	my @items;
	my $line = 1;
	my $pos = 0;
	my $len = length $text;
	my $nl_run = 2;
	my $last_end_line = 0;
	while ($pos < $len) {
		my $c = substr($text, $pos, 1);
		if ($c eq "\n") { $line++; $nl_run++; $pos++; next; }
		if ($c =~ /\s/) { $pos++; next; }
		my $start = $pos;
		my $start_line = $line;
		my $kind;
		if (substr($text, $pos, 2) eq '/*') {
			my $end = index($text, '*/', $pos + 2);
			$end = $len - 2 if $end < 0;
			$pos = $end + 2;
			$kind = 'comment';
		} elsif (substr($text, $pos, 2) eq '//') {
			$pos++ while $pos < $len && substr($text, $pos, 1) ne "\n";
			$kind = 'comment';
		} elsif ($c eq '#') {
			$pos = pp_end($text, $pos);
			$kind = 'pp';
		} else {
			$pos = decl_end($text, $pos);
			$kind = 'decl';
		}
		my $s = substr($text, $start, $pos - $start);
		$line += ($s =~ tr/\n//);
		my $item = { kind => $kind, text => $s, line => $start_line,
			     blank => $nl_run >= 2 };
		# A comment on the line where the last item ended belongs to it.
		if ($kind eq 'comment' && @items && $start_line == $last_end_line &&
		    $items[-1]{kind} ne 'comment') {
			$items[-1]{text} .= " $s";
			$items[-1]{trailing} = 1;
		} else {
			push @items, $item;
		}
		$last_end_line = $line;
		$nl_run = 0;
	}
	return @items;
}

# The end of the preprocessor line at POS: its continuation lines too, and
# any comment inside it.
sub pp_end {
	my ($text, $pos) = @_;
	my $len = length $text;
	while ($pos < $len) {
		my $c = substr($text, $pos, 1);
		if (substr($text, $pos, 2) eq '/*') {
			my $end = index($text, '*/', $pos + 2);
			return $len if $end < 0;
			$pos = $end + 2;
		} elsif ($c eq '\\' && substr($text, $pos + 1, 1) eq "\n") {
			$pos += 2;
		} elsif ($c eq "\n") {
			return $pos;
		} else {
			$pos++;
		}
	}
	return $pos;
}

# The end of the declaration at POS: after its `;` at depth 0, or after
# the brace that closes a function body.
sub decl_end {
	my ($text, $pos) = @_;
	my $len = length $text;
	my $depth = 0;
	my $seen_paren = 0;
	while ($pos < $len) {
		my $c = substr($text, $pos, 1);
		if (substr($text, $pos, 2) eq '/*') {
			my $end = index($text, '*/', $pos + 2);
			return $len if $end < 0;
			$pos = $end + 2;
			next;
		}
		if ($c eq '"' || $c eq "'") {
			$pos++;
			while ($pos < $len && substr($text, $pos, 1) ne $c) {
				$pos++ if substr($text, $pos, 1) eq '\\';
				$pos++;
			}
			$pos++;
			next;
		}
		if ($c eq '#' && $depth > 0 &&
		    substr($text, 0, $pos) =~ /\n[ \t]*\z/) {
			$pos = pp_end($text, $pos);
			next;
		}
		$pos++;
		if ($c eq '(' || $c eq '[') {
			$seen_paren = 1 if $depth == 0 && $c eq '(';
			$depth++;
		} elsif ($c eq ')' || $c eq ']') {
			$depth--;
		} elsif ($c eq '{') {
			# extern "C" { opens no declaration of its own.
			return $pos if $depth == 0 &&
				substr($text, 0, $pos) =~ /extern\s+"C"\s*\{\z/;
			$depth++;
		} elsif ($c eq '}') {
			$depth--;
			return $pos if $depth < 0;   # the } of extern "C"
			# A function body ends here; a struct goes on to its `;`.
			return $pos if $depth == 0 && $seen_paren;
		} elsif ($c eq ';' && $depth <= 0) {
			return $pos;
		}
	}
	return $pos;
}

# ---- what a declaration declares ----------------------------------------

# The names ITEM declares, as [name, kind] pairs; kind is function, var,
# fmacro (function-like macro), macro, type.
sub declared {
	my ($item) = @_;
	my $t = $item->{text};
	$t =~ s{/\*.*?\*/}{ }gs;
	$t =~ s{//[^\n]*}{}g;
	if ($item->{kind} eq 'pp') {
		return () unless $t =~ /^#\s*define\s+(\w+)(\()?/;
		return ([$1, $2 ? 'fmacro' : 'macro']);
	}
	return () if $t =~ /^extern\s+"C"/ || $t =~ /^\}/;
	my $flat = $t;
	1 while $flat =~ s/\{[^{}]*\}/ \x01 /s;
	my @names;
	# struct/union/enum tags that are defined here (not just named).
	if ($t =~ /^(?:typedef\s+)?(struct|union|enum)\s+(\w+)\s*\{/) {
		push @names, ["$1 $2", 'type'];
	}
	if ($flat =~ /^typedef\b/) {
		if ($flat =~ /\(\s*\*\s*(\w+)\s*\)\s*\(/) {
			push @names, [$1, 'type'];
		} elsif ($flat =~ /(\w+)\s*(?:\[[^\]]*\]\s*)*;\s*\z/) {
			push @names, [$1, 'type'];
		}
		return @names;
	}
	return @names if $flat =~ /^(?:struct|union|enum)\s+\w+\s*(?:\x01\s*)?;\s*\z/;
	# A function: the first identifier before a `(` that is not an
	# attribute or a macro.
	my $depth = 0;
	while ($flat =~ /(\w+)\s*\(|([()])/g) {
		if (defined $1) {
			my $n = $1;
			if ($depth == 0 && $n !~ /^(?:__attribute__|__\w+|[A-Z0-9_]+)$/) {
				push @names, [$n, 'function'];
				return @names;
			}
			$depth++;
		} elsif ($2 eq '(') {
			$depth++;
		} else {
			$depth--;
		}
	}
	if ($flat =~ /(\w+)\s*(?:\[[^\]]*\]\s*)*(?:=[^;]*)?;\s*\z/ && $flat !~ /^\{/) {
		push @names, [$1, 'var'];
	}
	return @names;
}

sub internal_name {
	my ($n) = @_;
	return $n =~ /_\z/ || $n =~ /^(?:struct |union |enum )?(?:ptio__|PTIO__)/;
}

# What a declaration shows in a synopsis: a function without its body, a
# macro without its replacement (unless that is one short line).
sub synopsis {
	my ($item) = @_;
	my $t = $item->{text};
	if ($item->{kind} eq 'pp') {
		if ($t =~ /^(#\s*define\s+\w+(?:\(([^)]*)\))?)/) {
			my ($head, $param) = ($1, $2);
			# An X-macro list (NAME(XX) XX(...) XX(...)): the list
			# is what it documents.
			return $t if defined $param && $param =~ /^\s*(\w+)\s*\z/ &&
				substr($t, length $head) =~ /\b\Q$1\E\(/;
			return $t if $t !~ /\\\n/ && length($t) <= 72 &&
				$head !~ /\(/;
			return $head;
		}
		return $t;
	}
	if ($t =~ /^[^{;]*\)\s*\{/s && $t !~ /^(?:typedef\s+)?(?:struct|union|enum)\b/) {
		$t =~ s/\s*\{.*\z/;/s;
	}
	return $t;
}

# ---- comment text -------------------------------------------------------

# The lines of a comment without its markers and its left margin.
sub comment_lines {
	my ($c) = @_;
	if ($c =~ m{^//}) {
		my @l = map { s{^\s*// ?}{}r } split /\n/, $c;
		return @l;
	}
	$c =~ s{^/\*+}{};
	$c =~ s{\s*\*+/\z}{};
	my @l = split /\n/, $c, -1;
	my $starred = !grep { $_ !~ /^\s*\*/ && /\S/ } @l[1 .. $#l];
	$l[0] =~ s/^\s+//;
	for my $i (1 .. $#l) {
		if ($starred) { $l[$i] =~ s/^\s*\*(?: |\t|$)//; }
		$l[$i] =~ s/\t/        /g;
	}
	for (@l) { s/\s+\z//; }
	my $from = 1;	# a first line right after "/*" has no margin
	while (@l && $l[0] eq '') { shift @l; $from = 0; }
	pop @l while @l && $l[-1] eq '';
	my $min;
	for (@l[$from .. $#l]) {
		next unless /\S/;
		my ($sp) = /^( *)/;
		$min = length $sp if !defined $min || length $sp < $min;
	}
	if ($min) { s/^ {$min}// for @l[$from .. $#l]; }
	return @l;
}

sub is_section {
	my ($c) = @_;
	my @l = comment_lines($c);
	return @l == 1 && $l[0] =~ /^-{2,}\s*(.*?)\s*-*\z/ ? ($1 ne '' ? $1 : ' ') : '';
}

# roff-escape one line of text.
sub esc {
	my ($s) = @_;
	$s =~ s/\\/\\e/g;
	$s =~ s/^([.'])/\\&$1/;
	return $s;
}

# Comment lines as chunks: ['p', lines] a plain paragraph (filled),
# ['li', marker, lines] an item of a numbered or dashed list, ['pre',
# lines] anything else indented (code, tables), kept as it was written.
sub chunks {
	my @out;
	my @para;
	for (@_, '') {
		if ($_ ne '') { push @para, $_; next; }
		push @out, para_chunks(@para) if @para;
		@para = ();
	}
	return @out;
}

sub para_chunks {
	my @p = @_;
	my @ind = map { /^( *)/; length $1 } @p;
	my $marker = qr/^ {0,3}(\d+\.|[-*o])\s+/;
	if ($p[0] =~ $marker) {
		my @items;
		for my $i (0 .. $#p) {
			if ($p[$i] =~ /$marker(.*)/) {
				push @items, ['li', $1, [$2]];
			} elsif ($ind[$i] > 0) {
				push @{$items[-1][2]}, $p[$i] =~ s/^\s+//r;
			} else {
				return pre_chunk(@p);
			}
		}
		return @items;
	}
	# Lines at the margin, then indented ones (a list, an example after
	# a colon): fill the first, keep the rest as written.
	my $k = 0;
	$k++ while $k < @p && $ind[$k] == 0;
	return pre_chunk(@p) if $k == 0;
	return ['p', [@p[0 .. $k - 1]]], ($k < @p ? pre_chunk(@p[$k .. $#p]) : ());
}

sub pre_chunk {
	my @p = @_;
	my ($min) = sort { $a <=> $b } map { /^( *)/; length $1 } @p;
	s/^ {$min}// for @p;
	return ['pre', [@p]];
}

# Comment lines as man(7) source.
sub roff_text {
	my $out = '';
	my $in_list = 0;
	for my $c (chunks(@_)) {
		if ($c->[0] eq 'li') {
			$out .= ".IP \"$c->[1]\" 4\n" . join('', map { esc($_) . "\n" } @{$c->[2]});
			$in_list = 1;
			next;
		}
		$out .= ".PP\n" if $in_list;
		$in_list = 0;
		if ($c->[0] eq 'p') {
			$out .= ".PP\n" . join('', map { esc($_) . "\n" } @{$c->[1]});
		} else {
			$out .= ".PP\n.RS 4\n.nf\n" .
				join('', map { esc($_) . "\n" } @{$c->[1]}) . ".fi\n.RE\n";
		}
	}
	$out .= ".PP\n" if $in_list;
	return $out;
}

sub html_esc {
	my ($s) = @_;
	$s =~ s/&/&amp;/g;
	$s =~ s/</&lt;/g;
	$s =~ s/>/&gt;/g;
	$s =~ s/"/&quot;/g;
	return $s;
}

# Comment lines as HTML.
sub html_text {
	my $out = '';
	my $in_list = 0;
	for my $c (chunks(@_)) {
		if ($c->[0] eq 'li') {
			$out .= "<dl>\n" unless $in_list;
			$out .= "<dt>" . html_esc($c->[1]) . "</dt><dd>" .
				html_esc(join ' ', @{$c->[2]}) . "</dd>\n";
			$in_list = 1;
			next;
		}
		$out .= "</dl>\n" if $in_list;
		$in_list = 0;
		if ($c->[0] eq 'p') {
			$out .= "<p>" . html_esc(join "\n", @{$c->[1]}) . "</p>\n";
		} else {
			$out .= "<pre>" . html_esc(join "\n", @{$c->[1]}) . "</pre>\n";
		}
	}
	$out .= "</dl>\n" if $in_list;
	return $out;
}

# A one-line summary: the comment's first sentence, without a leading
# "name(args) - ".
sub summary {
	my (@l) = @_;
	my $s = join ' ', map { s/^\s+//r } grep { $_ ne '' } @l[0 .. ($#l < 3 ? $#l : 3)];
	$s =~ s/^[\w\/.-]+(?:\([^)]*\))?(?:,\s*[\w\/.-]+(?:\([^)]*\))?)*\s+-+\s+//;
	$s =~ s/^(.*?[.;])(?:\s.*)?\z/$1/;
	$s =~ s/[.;:]\z//;
	$s =~ s/\s+/ /g;
	# whatis shows one line: a long sentence keeps its first clause.
	if (length $s > 72) {
		my $cut = substr($s, 0, 72);
		$s = $1 if $cut =~ /^(.{12,}?)[:;] /;
	}
	return $s;
}

# ---- reading every header into blocks -----------------------------------

my @files;	# { inc, intro => [lines], parts => [ section|block ] }
for my $path (@headers) {
	open my $fh, '<', $path or die "gen-man.pl: $path: $!\n";
	local $/;
	my $text = <$fh>;
	close $fh;
	my @items = lex($text);
	my $file = { inc => include_name($path), intro => [], parts => [] };
	my ($guard, $block);
	my $intro_done = 0;
	my $pending_blank = 0;
	for my $i (0 .. $#items) {
		my $it = $items[$i];
		my $blank = $it->{blank} || $pending_blank;
		if ($it->{kind} eq 'pp' && $it->{text} =~ /^#\s*(\w+)\s*(\w*)/) {
			my ($d, $n) = ($1, $2);
			if (!$guard && $d eq 'ifndef' && $i < $#items &&
			    $items[$i + 1]{text} =~ /^#\s*define\s+\Q$n\E\s*\z/) {
				$guard = $n;
			}
			if ($d ne 'define' || ($guard && $n eq $guard)) {
				$pending_blank = $blank;
				next;
			}
		}
		if ($it->{kind} eq 'decl' && $it->{text} =~ /^(?:extern\s+"C"|\})/) {
			$pending_blank = $blank;
			next;
		}
		$pending_blank = 0;
		if ($it->{kind} eq 'comment') {
			if (!$intro_done) {
				$file->{intro} = [comment_lines($it->{text})];
				$intro_done = 1;
				$block = undef;
				next;
			}
			if (my $title = is_section($it->{text})) {
				push @{$file->{parts}}, { section => $title };
				$block = undef;
				next;
			}
			if ($block && !$blank && !@{$block->{items}}) {
				push @{$block->{doc}}, '', comment_lines($it->{text});
				next;
			}
			$block = { doc => [comment_lines($it->{text})], items => [],
				   inc => $file->{inc}, line => $it->{line} };
			push @{$file->{parts}}, $block;
			next;
		}
		$intro_done = 1;
		my @names = grep { !internal_name($_->[0]) } declared($it);
		if (!$block || $blank) {
			$block = { doc => [], items => [], inc => $file->{inc},
				   line => $it->{line} };
			push @{$file->{parts}}, $block;
		}
		push @{$block->{items}}, $it;
		for my $n (@names) {
			push @{$block->{names}}, $n
				unless grep { $_->[0] eq $n->[0] } @{$block->{names} || []};
		}
		# A declaration with a comment on its own line documents itself.
		$block->{doc} = ['(see the comment in the synopsis)']
			if !@{$block->{doc}} && $it->{trailing} && !$blank;
	}
	adopt($file);
	push @files, $file;
}

# Tolerance for a common layout: a documented struct, then after a blank
# line the functions that work on it.  An undocumented block joins the
# nearest documented block above it in the same section when each of its
# names is mentioned in that block's comment or extends a type it
# declares (ptio_take_init after struct ptio_take).
sub adopt {
	my ($file) = @_;
	my @parts = @{$file->{parts}};
	for my $i (0 .. $#parts) {
		my $b = $parts[$i];
		next if $b->{section} || @{$b->{doc}} || !@{$b->{names} || []};
		for (my $j = $i - 1; $j >= 0 && !$parts[$j]{section}; $j--) {
			my $d = $parts[$j];
			next unless @{$d->{doc}} && @{$d->{items}};
			my @types = map { $_->[0] =~ s/^(?:struct|union|enum) //r }
				grep { $_->[1] eq 'type' } @{$d->{names} || []};
			my $text = join ' ', @{$d->{doc}};
			my $ok = !grep {
				my $n = $_->[0] =~ s/^(?:struct|union|enum) //r;
				$text !~ /\b\Q$n\E\b/ &&
					!grep { $n eq $_ || index($n, "${_}_") == 0 } @types;
			} @{$b->{names}};
			next unless $ok;
			push @{$d->{extra}}, $b;
			$b->{adopted} = $d;
			last;
		}
	}
}

sub all_names {
	my ($b) = @_;
	return @{$b->{names} || []}, map { @{$_->{names} || []} } @{$b->{extra} || []};
}

sub all_items {
	my ($b) = @_;
	return @{$b->{items}}, map { (undef, @{$_->{items}}) } @{$b->{extra} || []};
}

# ---- choosing pages ------------------------------------------------------

my %rank = (function => 0, var => 0, fmacro => 0, macro => 1, type => 2);
my @cands;	# [name, kind, block]
for my $f (@files) {
	for my $b (grep { $_->{items} } @{$f->{parts}}) {
		next unless @{$b->{doc}};
		for my $n (all_names($b)) {
			push @cands, [$n->[0], $n->[1], $b];
		}
	}
}
# A name declared twice: the block whose comment names it wins.
sub mentions {
	my ($b, $n) = @_;
	return (grep { /\b\Q$n\E\b/ } @{$b->{doc}}) ? 0 : 1;
}
@cands = sort {
	$rank{$a->[1]} <=> $rank{$b->[1]} ||
	mentions($a->[2], $a->[0]) <=> mentions($b->[2], $b->[0]) ||
	scalar(all_names($a->[2])) <=> scalar(all_names($b->[2]))
} @cands;
my %taken;	# lower-case page name => 1
my %page_of;	# name => block
for my $c (@cands) {
	my ($n, $kind, $b) = @$c;
	next if $n =~ / /;	# struct tags: their page is the header's
	next if $taken{lc $n};
	$taken{lc $n} = 1;
	$page_of{$n} = $b;
	push @{$b->{pages}}, $n;
}
my @undocumented;
for my $f (@files) {
	for my $b (grep { $_->{items} } @{$f->{parts}}) {
		next if @{$b->{doc}} || $b->{adopted};
		for my $n (@{$b->{names} || []}) {
			push @undocumented, "$b->{inc}:$b->{line}: $n->[0]"
				unless $page_of{$n->[0]};
		}
	}
}
if ($warn) {
	print STDERR "gen-man.pl: no contract comment: $_\n" for @undocumented;
}

# ---- writing man pages ---------------------------------------------------

sub header_page {
	my ($inc) = @_;
	return 'ptio' if $inc eq 'ptio.h';
	return ($inc =~ s/\.h\z//r) =~ s{/}{-}gr;
}

sub th {
	my ($name) = @_;
	return ".TH \"" . uc($name) . "\" 3 \"\" \"ptio $version\" " .
		"\"ptio Reference Manual\"\n";
}

sub decls_roff {
	my (@items) = @_;
	my $s = join "\n", map { $_ ? synopsis($_) : '' } @items;
	my @l = split /\n/, $s;
	for (@l) {
		s/\t/        /g;
		s/\s*\\\z//;	# a macro's line continuation
	}
	return ".nf\n" . join('', map { esc($_) . "\n" } @l) . ".fi\n";
}

my @written;
system('mkdir', '-p', "$outdir/man3") == 0 or die "gen-man.pl: mkdir\n";
sub write_page {
	my ($name, $text) = @_;
	my $f = "$outdir/man3/$name.3";
	open my $fh, '>', $f or die "gen-man.pl: $f: $!\n";
	print $fh $text;
	close $fh or die "gen-man.pl: $f: $!\n";
	push @written, "$name.3";
}

# One page per documented block, and the aliases of its other names.
for my $f (@files) {
	my $hp = header_page($f->{inc});
	for my $b (grep { $_->{pages} } @{$f->{parts}}) {
		my @n = @{$b->{pages}};
		my %on = map { $_ => 1 } @n;
		my @order = grep { $on{$_} } map { $_->[0] } all_names($b);
		my ($main) = grep { $page_of{$_} && $rank{kind_of($b, $_)} == 0 } @order;
		$main //= $order[0];
		my $t = th($main) . ".SH NAME\n" . join(', ', map { esc($_) } @order) .
			" \\- " . esc(summary(@{$b->{doc}}) || $main) . "\n" .
			".SH SYNOPSIS\n.nf\n.B #include <$f->{inc}>\n.fi\n.PP\n" .
			decls_roff(all_items($b)) .
			".SH DESCRIPTION\n" . roff_text(@{$b->{doc}}) .
			".SH SEE ALSO\n.BR $hp (3),\n.BR ptio (3)\n";
		write_page($main, $t);
		write_page($_, ".so man3/$main.3\n") for grep { $_ ne $main } @order;
	}
}

sub kind_of {
	my ($b, $n) = @_;
	for (all_names($b)) { return $_->[1] if $_->[0] eq $n; }
	return 'type';
}

# One page per header: its introduction, then every block in order.
for my $f (@files) {
	my $hp = header_page($f->{inc});
	my @intro = @{$f->{intro}};
	my $sum = summary(@intro);
	shift @intro if @intro && $intro[0] =~ /^\Q$f->{inc}\E\s+-/;
	my $t = th($hp) . ".SH NAME\n$hp \\- " . esc($sum || $f->{inc}) . "\n" .
		".SH SYNOPSIS\n.nf\n.B #include <$f->{inc}>\n.fi\n" .
		".SH DESCRIPTION\n" . roff_text(@intro);
	my $open = 0;
	for my $p (@{$f->{parts}}) {
		if ($p->{section}) {
			my $title = $p->{section} =~ s/^\d+\.\s*//r;
			$t .= ".SH \"" . esc(uc $title) . "\"\n";
			$open = 1;
			next;
		}
		next unless @{$p->{doc}} || @{$p->{names} || []};
		if (!$open) { $t .= ".SH DECLARATIONS\n"; $open = 1; }
		if (!@{$p->{items}}) {
			$t .= roff_text(@{$p->{doc}});
			next;
		}
		my @see = grep { $page_of{$_} && $page_of{$_} == $p } @{$p->{pages} || []};
		$t .= ".PP\n" . decls_roff(@{$p->{items}});
		$t .= ".RS 4\n" . roff_text(@{$p->{doc}}) . ".RE\n" if @{$p->{doc}};
	}
	if ($hp eq 'ptio') {
		$t .= ".SH \"THE HEADERS\"\n";
		for my $g (@files) {
			my $gp = header_page($g->{inc});
			next if $gp eq 'ptio';
			$t .= ".TP\n.BR $gp (3)\n" . esc(summary(@{$g->{intro}})) . "\n";
		}
		$t .= ".SH INDEX\nEvery function, macro, variable and type with a " .
			"page of its own:\n.PP\n.nf\n";
		$t .= join('', map { ".BR " . esc($_) . " (3)\n" }
			   sort { lc $a cmp lc $b } keys %page_of);
		$t .= ".fi\n";
	}
	$t .= ".SH SEE ALSO\n.BR ptio (3)\n" unless $hp eq 'ptio';
	write_page($hp, $t);
	# Types with no page of their own (man 3 ptio_tick) lead here.
	for my $b (grep { $_->{items} } @{$f->{parts}}) {
		for my $n (grep { $_->[1] eq 'type' } @{$b->{names} || []}) {
			my $tn = $n->[0] =~ s/^(?:struct|union|enum) //r;
			next if $taken{lc $tn};
			$taken{lc $tn} = 1;
			write_page($tn, ".so man3/$hp.3\n");
		}
	}
}

write_html("$outdir/reference.html");

open my $lf, '>', "$outdir/pages.list" or die "gen-man.pl: $outdir/pages.list: $!\n";
print $lf "$_\n" for sort @written;
close $lf or die;

# ---- the HTML page -------------------------------------------------------

sub write_html {
	my ($file) = @_;
	my $v = html_esc($version);
	my $h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" .
		"<title>ptio $v API reference</title>\n<style>\n" .
		"body { max-width: 50em; margin: auto; padding: 0 1em; font-family: sans-serif; }\n" .
		"pre { background: #f4f4f4; padding: .5em; overflow-x: auto; }\n" .
		".doc { margin-left: 2em; }\n</style>\n</head>\n<body>\n" .
		"<h1>ptio $v API reference</h1>\n" .
		"<p>Made from the comments of the installed headers; the same text " .
		"is in the man pages (<code>man 3 ptio</code>).</p>\n<h2>Headers</h2>\n<ul>\n";
	for my $f (@files) {
		$h .= "<li><a href=\"#h-" . header_page($f->{inc}) . "\">" .
			html_esc($f->{inc}) . "</a> - " . html_esc(summary(@{$f->{intro}})) .
			"</li>\n";
	}
	$h .= "</ul>\n<h2>Index</h2>\n<p>\n" .
		join(",\n", map { "<a href=\"#$_\"><code>$_</code></a>" }
		     sort { lc $a cmp lc $b } keys %page_of) . "\n</p>\n";
	my %anchored;
	for my $f (@files) {
		my @intro = @{$f->{intro}};
		shift @intro if @intro && $intro[0] =~ /^\Q$f->{inc}\E\s+-/;
		$h .= "<h2 id=\"h-" . header_page($f->{inc}) . "\">" .
			html_esc($f->{inc}) . "</h2>\n" . html_text(@intro);
		for my $p (@{$f->{parts}}) {
			if ($p->{section}) {
				$h .= "<h3>" . html_esc($p->{section}) . "</h3>\n";
				next;
			}
			next unless @{$p->{doc}} || @{$p->{names} || []};
			if (!@{$p->{items}}) {
				$h .= html_text(@{$p->{doc}});
				next;
			}
			for my $n (map { $_->[0] } @{$p->{names} || []}) {
				next if $n =~ / / || $anchored{$n};
				my $home = $page_of{$n};
				next if $home && $home != $p &&
					!($p->{adopted} && $home == $p->{adopted});
				$anchored{$n} = 1;
				$h .= "<a id=\"$n\"></a>";
			}
			my $d = join "\n", map { synopsis($_) } @{$p->{items}};
			$d =~ s/[ \t]*\\\n/\n/g;
			$h .= "<pre>" . html_esc($d) . "</pre>\n";
			$h .= "<div class=\"doc\">\n" . html_text(@{$p->{doc}}) . "</div>\n"
				if @{$p->{doc}};
		}
	}
	$h .= "</body>\n</html>\n";
	open my $fh, '>', $file or die "gen-man.pl: $file: $!\n";
	print $fh $h;
	close $fh or die "gen-man.pl: $file: $!\n";
}
