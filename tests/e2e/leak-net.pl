#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network probes for tests/e2e/leak.sh, run inside the booted test VMs.
# Perl because the images have perl-base (Socket is in it) and nothing like
# ping, dig, nc or a second DHCP client: the test adds no binary to a guest.
# Every probe has a hard time limit and prints one line saying what
# happened; the caller (leak-probe.sh) judges it.  A reply from the test's
# "clearnet" host always carries the word WB-CLEARNET.
#
#   leak-net.pl tcp HOST PORT        connect, send a line, wait for a reply
#   leak-net.pl udp HOST PORT        send a datagram, wait for a reply
#   leak-net.pl tcp6 HOST PORT       the same over IPv6
#   leak-net.pl udp6 HOST PORT
#   leak-net.pl ping HOST            one ICMP echo request, wait for the reply
#   leak-net.pl dns SERVER[:PORT] NAME  an A query over UDP, print the addresses
#   leak-net.pl dhcp IFACE           a DHCPDISCOVER broadcast, wait for an offer
use strict;
use warnings;
use Socket qw(:DEFAULT inet_pton inet_ntop pack_sockaddr_in6 AF_INET6 PF_INET6);

my $WAIT = 4;        # seconds for a connect, and again for a reply
my $SO_BINDTODEVICE = 25;

sub readable {
        my ($fh, $t) = @_;
        my $rin = '';
        vec($rin, fileno($fh), 1) = 1;
        return select($rin, undef, undef, $t) > 0;
}

sub writable {
        my ($fh, $t) = @_;
        my $win = '';
        vec($win, fileno($fh), 1) = 1;
        return select(undef, $win, undef, $t) > 0;
}

sub oneline {
        my $s = shift;
        $s =~ s/[^\x20-\x7e]/./g;
        return substr($s, 0, 80);
}

sub addr {
        my ($fam, $host, $port) = @_;
        if ($fam == AF_INET6) {
                my $a = inet_pton(AF_INET6, $host) or die "bad address $host\n";
                return pack_sockaddr_in6($port, $a);
        }
        my $a = inet_aton($host) or die "bad address $host\n";
        return sockaddr_in($port, $a);
}

sub stream {
        my ($fam, $host, $port) = @_;
        my $s;
        socket($s, $fam, SOCK_STREAM, 0) or return "socket failed: $!";
        # Non-blocking connect, so that a silently dropped SYN costs $WAIT s.
        defined(my $fl = fcntl($s, 3, 0)) or return "fcntl failed: $!";    # F_GETFL
        fcntl($s, 4, $fl | 04000);                                           # F_SETFL O_NONBLOCK
        if (!connect($s, addr($fam, $host, $port))) {
                return "connect failed: $!" unless $!{EINPROGRESS};
                return "connect timed out (no answer in ${WAIT}s)" unless writable($s, $WAIT);
                my $e = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));
                if ($e) {
                        $! = $e;
                        return "connect failed: $!";
                }
        }
        fcntl($s, 4, $fl);
        send($s, "WB-PROBE hello\n", 0);
        return "connected, no reply in ${WAIT}s" unless readable($s, $WAIT);
        my $buf = '';
        my $n = sysread($s, $buf, 200);
        return "connected, closed by the peer without data" if defined $n && $n == 0;
        return "connected, read failed: $!" unless defined $n;
        return "connected, reply: " . oneline($buf);
}

sub dgram {
        my ($fam, $host, $port) = @_;
        my $s;
        socket($s, $fam, SOCK_DGRAM, 0) or return "socket failed: $!";
        connect($s, addr($fam, $host, $port)) or return "connect failed: $!";
        defined send($s, "WB-PROBE hello\n", 0) or return "send failed: $!";
        return "sent, no reply in ${WAIT}s" unless readable($s, $WAIT);
        my $buf;
        defined recv($s, $buf, 200, 0) or return "sent, recv failed: $!";
        return "sent, reply: " . oneline($buf);
}

sub cksum {
        my $d = shift;
        $d .= "\0" if length($d) % 2;
        my $sum = 0;
        $sum += $_ for unpack('n*', $d);
        $sum = ($sum >> 16) + ($sum & 0xffff) while $sum >> 16;
        return ~$sum & 0xffff;
}

sub ping {
        my ($host) = @_;
        my $s;
        socket($s, PF_INET, SOCK_RAW, 1) or return "raw socket failed: $!";
        my $id = $$ & 0xffff;
        my $payload = 'WB-PROBE-PING' x 4;
        my $pkt = pack('CCnnn', 8, 0, 0, $id, 1) . $payload;
        substr($pkt, 2, 2) = pack('n', cksum($pkt));
        defined send($s, $pkt, 0, addr(AF_INET, $host, 0)) or return "send failed: $!";
        my $end = time + $WAIT;
        while ((my $left = $end - time) > 0) {
                last unless readable($s, $left);
                my $buf;
                my $from = recv($s, $buf, 1500, 0);
                next unless defined $from && length($buf) >= 28;
                my $ihl = (unpack('C', $buf) & 0x0f) * 4;
                my ($type, undef, undef, $rid) = unpack('CCnn', substr($buf, $ihl));
                my $src = inet_ntoa(substr($buf, 12, 4));
                return "echo reply from $src" if $type == 0 && $rid == $id;
        }
        return "sent, no echo reply in ${WAIT}s";
}

# A name at offset $o of DNS message $m (compression pointers followed);
# returns the offset after it.
sub skipname {
        my ($m, $o) = @_;
        while ($o < length $m) {
                my $l = unpack('C', substr($m, $o, 1));
                return $o + 2 if ($l & 0xc0) == 0xc0;
                return $o + 1 if $l == 0;
                $o += $l + 1;
        }
        return $o;
}

sub dns {
        my ($server, $name) = @_;
        my $port = $server =~ s/:(\d+)$// ? $1 : 53;
        my $s;
        socket($s, PF_INET, SOCK_DGRAM, 0) or return "socket failed: $!";
        connect($s, addr(AF_INET, $server, $port)) or return "connect failed: $!";
        my $id = int(rand(65535));
        my $q = pack('nnnnnn', $id, 0x0100, 1, 0, 0, 0);
        $q .= pack('C', length $_) . $_ for split /\./, $name;
        $q .= pack('Cnn', 0, 1, 1);
        defined send($s, $q, 0) or return "send failed: $!";
        return "no answer in ${WAIT}s" unless readable($s, $WAIT);
        my $m;
        defined recv($s, $m, 1500, 0) or return "recv failed: $!";
        return "short answer" if length($m) < 12;
        my ($rid, $flags, $qd, $an) = unpack('nnnn', $m);
        return "answer with a wrong id" if $rid != $id;
        my $o = 12;
        $o = skipname($m, $o) + 4 for 1 .. $qd;
        my @a;
        for (1 .. $an) {
                $o = skipname($m, $o);
                last if $o + 10 > length $m;
                my ($type, $class, $ttl, $len) = unpack('nnNn', substr($m, $o, 10));
                $o += 10;
                push @a, inet_ntoa(substr($m, $o, 4)) if $type == 1 && $len == 4;
                $o += $len;
        }
        return sprintf('rcode %d, answer: %s', $flags & 0x0f, @a ? join(' ', @a) : 'none');
}

sub dhcp {
        my ($ifname) = @_;
        open(my $f, '<', "/sys/class/net/$ifname/address") or return "no interface $ifname";
        my $mac = <$f>;
        chomp $mac;
        my $hw = pack('H*', join('', split /:/, $mac));
        my $s;
        socket($s, PF_INET, SOCK_DGRAM, 0) or return "socket failed: $!";
        setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
        setsockopt($s, SOL_SOCKET, SO_BROADCAST, 1) or return "SO_BROADCAST failed: $!";
        setsockopt($s, SOL_SOCKET, $SO_BINDTODEVICE, pack('Z*', $ifname)) or return "SO_BINDTODEVICE failed: $!";
        bind($s, sockaddr_in(68, INADDR_ANY)) or return "bind to port 68 failed: $!";
        my $xid = int(rand(0xffffffff));
        my $p = pack('CCCCNnn', 1, 1, 6, 0, $xid, 0, 0x8000) . ("\0" x 16) . $hw . ("\0" x (10 + 64 + 128));
        $p .= pack('N', 0x63825363) . pack('CCC', 53, 1, 1) . pack('CCCCC', 55, 3, 1, 3, 6) . pack('C', 255);
        defined send($s, $p, 0, sockaddr_in(67, INADDR_BROADCAST)) or return "send failed: $!";
        my $end = time + $WAIT;
        while ((my $left = $end - time) > 0) {
                last unless readable($s, $left);
                my $buf;
                my $from = recv($s, $buf, 1500, 0);
                next unless defined $from && length($buf) >= 240;
                my $rxid = unpack('N', substr($buf, 4, 4));
                next unless $rxid == $xid;
                my (undef, $src) = sockaddr_in($from);
                return sprintf('offer from %s: %s', inet_ntoa($src), inet_ntoa(substr($buf, 16, 4)));
        }
        return "DHCPDISCOVER sent on $ifname, no offer in ${WAIT}s";
}

my ($what, @arg) = @ARGV;
$what //= '';
my %probe = (
        tcp  => sub { stream(AF_INET, @_) },
        tcp6 => sub { stream(AF_INET6, @_) },
        udp  => sub { dgram(AF_INET, @_) },
        udp6 => sub { dgram(AF_INET6, @_) },
        ping => \&ping,
        dns  => \&dns,
        dhcp => \&dhcp,
);
die "usage: leak-net.pl tcp|udp|tcp6|udp6|ping|dns|dhcp ARGS...\n" unless $probe{$what};
my $r = eval { $probe{$what}->(@arg) };
print defined $r ? "$r\n" : "error: $@";
