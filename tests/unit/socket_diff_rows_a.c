/*
 * socket_diff_rows_a.c - rows of the differential socket test (socket_diff.h); each names the man page or RFC
 * behind what it checks.
 */
#include "socket_diff.h"

static void row_socket_kinds(struct run *r)
{
	const struct ops *o = r->o;
	int a = FD("socket stream 0", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int b = FD("socket dgram 0", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	int c = FD("socket stream tcp", o->socket_client(AF_INET, SOCK_STREAM, IPPROTO_TCP));
	int d = FD("socket dgram udp", o->socket_client(AF_INET, SOCK_DGRAM, IPPROTO_UDP));

	RC("close", o->close(a));
	RC("close", o->close(b));
	RC("close", o->close(c));
	RC("close", o->close(d));
}

/* socket(2) EAFNOSUPPORT: "The implementation does not support the specified address family." */
static void row_socket_bad_family(struct run *r)
{
	int fd = FD("socket family 255", r->o->socket_client(255, SOCK_STREAM, 0));

	sd_drop(r, fd);
}

/* socket(2) EINVAL: "Unknown protocol, or protocol family not available" / invalid flags in type;
 * Linux: a type past SOCK_MAX is EINVAL (net/socket.c __sock_create). */
static void row_socket_bad_type(struct run *r)
{
	int fd = FD("socket type 42", r->o->socket_client(AF_INET, 42, 0));

	sd_drop(r, fd);
}

/* socket(2) EPROTONOSUPPORT: "The protocol type or the specified protocol is not supported within
 * this domain": TCP is not a datagram protocol nor UDP a stream one. */
static void row_socket_type_protocol_mismatch(struct run *r)
{
	int a = FD("socket stream udp", r->o->socket_client(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	int b = FD("socket dgram tcp", r->o->socket_client(AF_INET, SOCK_DGRAM, IPPROTO_TCP));

	sd_drop(r, a);
	sd_drop(r, b);
}

/* socket(2): SOCK_NONBLOCK sets O_NONBLOCK on the new descriptor. */
static void row_socket_nonblock_flag(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket stream|nonblock", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int u = FD("socket dgram|nonblock", o->socket_client(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	long fl = RC("fcntl getfl", o->fcntl(fd, F_GETFL, 0));
	char buf[8];

	sd_note(r, "nonblock %d", fl >= 0 && (fl & O_NONBLOCK) != 0);
	RC("udp recv", o->recv(u, buf, sizeof(buf), 0));
	sd_drop(r, fd);
	sd_drop(r, u);
}

/* ================================ rows: bind() ================================ */

/* bind(2) EINVAL: "The socket is already bound to an address." */
static void row_bind_twice(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int fd = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	RC("bind", o->bind(fd, SA(&a), sizeof(a)));
	RC("bind again", o->bind(fd, SA(&a), sizeof(a)));
	sd_drop(r, fd);
}

/* bind(2) EADDRINUSE: "The given address is already in use." */
static void row_bind_port_in_use(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int a = sd_server_sock(r, SOCK_STREAM, -1, &port);
	struct sockaddr_in sa = sd_sin4(o->server_addr, port);
	int b = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	RC("bind same port", o->bind(b, SA(&sa), sizeof(sa)));
	sd_drop(r, a);
	sd_drop(r, b);
}

/* UDP has its own port space: the same port number on TCP and UDP at once (RFC 768, RFC 9293 §3.1:
 * a port belongs to a protocol). Two UDP sockets on one port: EADDRINUSE as TCP. */
static void row_bind_udp_port_in_use(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int t = sd_server_sock(r, SOCK_STREAM, -1, &port);
	struct sockaddr_in sa = sd_sin4(o->server_addr, port);
	int u1 = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	int u2 = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));

	RC("udp bind the tcp port", o->bind(u1, SA(&sa), sizeof(sa)));
	RC("udp bind it again", o->bind(u2, SA(&sa), sizeof(sa)));
	sd_drop(r, t);
	sd_drop(r, u1);
	sd_drop(r, u2);
}

/* socket(7) SO_REUSEADDR on UDP: two sockets that both asked for it share the port (Linux
 * udp_lib_lport_inuse); one that did not ask is refused. */
static void row_bind_udp_reuseaddr(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sd_sin4(o->server_addr, 0);
	int a = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	int b = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	int c = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	uint16_t port;

	sd_set_int(r, "reuseaddr a", a, SOL_SOCKET, SO_REUSEADDR, 1);
	sd_set_int(r, "reuseaddr b", b, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind a", o->bind(a, SA(&sa), sizeof(sa)));
	port = sd_local_port(r, a);
	sa = sd_sin4(o->server_addr, port);
	RC("bind b same port", o->bind(b, SA(&sa), sizeof(sa)));
	RC("bind c (no reuseaddr) same port", o->bind(c, SA(&sa), sizeof(sa)));
	sd_drop(r, a);
	sd_drop(r, b);
	sd_drop(r, c);
}

/* socket(7) SO_REUSEADDR: "a socket may bind, except when there is an active listening socket
 * bound to the address": both sockets asked for reuse, the first listens -> EADDRINUSE. */
static void row_bind_reuseaddr_listening(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sd_sin4(o->server_addr, 0);
	int a = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int b = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	uint16_t port;

	sd_set_int(r, "reuseaddr a", a, SOL_SOCKET, SO_REUSEADDR, 1);
	sd_set_int(r, "reuseaddr b", b, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind a", o->bind(a, SA(&sa), sizeof(sa)));
	RC("listen a", o->listen(a, 4));
	port = sd_local_port(r, a);
	sa = sd_sin4(o->server_addr, port);
	RC("bind b same port", o->bind(b, SA(&sa), sizeof(sa)));
	sd_drop(r, a);
	sd_drop(r, b);
}

/* socket(7) SO_REUSEADDR with neither socket listening: the second bind succeeds; then only one of
 * them can listen (Linux: inet_csk_bind_conflict at listen time). */
static void row_bind_reuseaddr_neither_listening(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sd_sin4(o->server_addr, 0);
	int a = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int b = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	uint16_t port;

	sd_set_int(r, "reuseaddr a", a, SOL_SOCKET, SO_REUSEADDR, 1);
	sd_set_int(r, "reuseaddr b", b, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind a", o->bind(a, SA(&sa), sizeof(sa)));
	port = sd_local_port(r, a);
	sa = sd_sin4(o->server_addr, port);
	RC("bind b same port", o->bind(b, SA(&sa), sizeof(sa)));
	RC("listen a", o->listen(a, 4));
	RC("listen b", o->listen(b, 4));
	sd_drop(r, a);
	sd_drop(r, b);
}

/* A server restart: its side of a connection closed first (RFC 9293 §3.6: the active closer goes
 * through TIME-WAIT, holding the port), the listener closed; a new listener on the same port.
 * With SO_REUSEADDR on both the old listener and the new socket, socket(7) lets it bind; the
 * connection's state (FIN-WAIT or TIME-WAIT) does not matter, so the row is deterministic. */
static void timewait_rebind(struct run *r, bool reuse_new)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sd_sin4(o->server_addr, 0);
	int l = FD("listener", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int c, s, n;
	uint16_t port;

	sd_set_int(r, "reuseaddr", l, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind", o->bind(l, SA(&sa), sizeof(sa)));
	RC("listen", o->listen(l, 4));
	port = sd_local_port(r, l);
	sd_bounded(r, l);
	sa = sd_sin4(o->server_addr, port);
	c = FD("client socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	sd_bounded(r, c);
	RC("connect", o->connect(c, SA(&sa), sizeof(sa)));
	s = FD("accept", o->accept(l, NULL, NULL));
	RC("server closes first", o->close(s));
	RC("listener closed", o->close(l));
	o->settle();
	RC("client close", o->close(c));
	o->settle();
	n = FD("new socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	if (reuse_new)
		sd_set_int(r, "reuseaddr", n, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind the old port", o->bind(n, SA(&sa), sizeof(sa)));
	sd_drop(r, n);
}

static void row_bind_timewait_reuseaddr(struct run *r)
{
	timewait_rebind(r, true);
}

static void row_bind_timewait_no_reuseaddr(struct run *r)
{
	timewait_rebind(r, false);
}

/* bind(2) EADDRNOTAVAIL: "A nonexistent interface was requested or the requested address was not
 * local." (ip(7): unless IP_FREEBIND or ip_nonlocal_bind.) */
static void row_bind_nonlocal(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(NONLOCAL_IP, 0);
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("bind tcp nonlocal", o->bind(t, SA(&a), sizeof(a)));
	RC("bind udp nonlocal", o->bind(u, SA(&a), sizeof(a)));
	sd_drop(r, t);
	sd_drop(r, u);
}

/* bind(2) EINVAL: "addrlen is wrong" (shorter than a sockaddr_in). */
static void row_bind_short_addrlen(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->client_addr, 0);
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("bind tcp len 15", o->bind(t, SA(&a), sizeof(a) - 1));
	RC("bind udp len 2", o->bind(u, SA(&a), 2));
	sd_drop(r, t);
	sd_drop(r, u);
}

/* ip(7): "sin_family is always set to AF_INET"; bind(2) EAFNOSUPPORT for another family. Linux
 * accepts AF_UNSPEC with INADDR_ANY for compatibility (net/ipv4/af_inet.c "Compatibility games"),
 * and refuses it with any other address. */
static void row_bind_family(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->client_addr, 0);
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	a.sin_family = AF_INET6;
	RC("bind family inet6", o->bind(t, SA(&a), sizeof(a)));
	a.sin_family = AF_UNSPEC;
	RC("bind family unspec addr", o->bind(t, SA(&a), sizeof(a)));
	a = sd_sin4(INADDR_ANY, 0);
	a.sin_family = AF_UNSPEC;
	RC("bind family unspec any", o->bind(u, SA(&a), sizeof(a)));
	sd_drop(r, t);
	sd_drop(r, u);
}

/* bind(2) EINVAL "already bound": a connected socket got its address (an ephemeral port) at
 * connect time (RFC 9293 §3.10.1 OPEN picks the local port). */
static void row_bind_after_connect(struct run *r)
{
	struct sockaddr_in a = sd_sin4(r->o->client_addr, 0);
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("bind connected", r->o->bind(c, SA(&a), sizeof(a)));
	sd_drop(r, c);
	sd_drop(r, s);
}

/* ================================ rows: connect() ================================ */

/* connect(2) ECONNREFUSED: "No-one listening on the remote address." (RFC 9293 §3.10.7.3: a RST
 * in SYN-SENT that acknowledges the SYN -> "connection reset"). SO_ERROR is then 0: the error was
 * reported by connect itself. */
static void row_connect_refused(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int hold = sd_closed_tcp_port(r, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	sd_bounded(r, c);
	RC("connect closed port", o->connect(c, SA(&a), sizeof(a)));
	sd_so_error(r, "so_error", c);
	RC("connect again", o->connect(c, SA(&a), sizeof(a)));
	sd_drop(r, c);
	sd_drop(r, hold);
}

/* connect(2) EINPROGRESS: "The socket is nonblocking and the connection cannot be completed
 * immediately. ... select(2) or poll(2) for completion by selecting the socket for writing ...
 * use getsockopt(2) to read the SO_ERROR option". Reading SO_ERROR clears it (socket(7)). */
static void row_connect_refused_nonblock(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int hold = sd_closed_tcp_port(r, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("socket", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	RC("connect closed port", o->connect(c, SA(&a), sizeof(a)));
	sd_poll1(r, "poll out", c, POLLOUT, 2000);
	sd_so_error(r, "so_error", c);
	sd_so_error(r, "so_error again", c);
	sd_drop(r, c);
	sd_drop(r, hold);
}

/* connect(2) EISCONN: "The socket is already connected." */
static void row_connect_twice(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int c, s, l = sd_tcp_conn_l(r, &c, &s, &port, true);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);

	RC("connect again", o->connect(c, SA(&a), sizeof(a)));
	sd_drop(r, c);
	sd_drop(r, s);
	sd_drop(r, l);
}

/* connect(2) EALREADY: "The socket is nonblocking and a previous connection attempt has not yet
 * been completed." The attempt is kept in SYN-SENT by a listener whose accept queue is full
 * (listen(2): backlog 0; Linux queues backlog + 1 and drops further SYNs without an answer). */
static void row_connect_nonblock_twice(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, 0, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c1 = FD("client 1", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int c2 = FD("client 2", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	sd_bounded(r, c1);
	RC("connect 1 (fills the queue)", o->connect(c1, SA(&a), sizeof(a)));
	o->settle();
	RC("connect 2", o->connect(c2, SA(&a), sizeof(a)));
	RC("connect 2 again", o->connect(c2, SA(&a), sizeof(a)));
	sd_poll1(r, "poll 2 out (still connecting)", c2, POLLOUT, 0);
	sd_drop(r, c2);
	sd_drop(r, c1);
	sd_drop(r, l);
}

/* Non-blocking connect, completion seen by poll, then connect again: Linux answers 0 once (the
 * socket becomes "connected" in the socket layer, net/ipv4/af_inet.c __inet_stream_connect), then
 * EISCONN. Programs use the second connect to learn the outcome. */
static void row_connect_nonblock_completes(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	sd_poll1(r, "poll out", c, POLLOUT, 2000);
	sd_so_error(r, "so_error", c);
	RC("connect again", o->connect(c, SA(&a), sizeof(a)));
	RC("connect a third time", o->connect(c, SA(&a), sizeof(a)));
	sd_drop(r, c);
	sd_drop(r, l);
}

/* connect(2) on a listening socket: Linux answers EISCONN (a socket not in CLOSED cannot connect,
 * net/ipv4/af_inet.c __inet_stream_connect; RFC 9293 §3.10.1: OPEN on a LISTEN connection that is
 * active is an error). */
static void row_connect_listening(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port, other;
	int hold = sd_closed_tcp_port(r, &other);
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, other);

	RC("connect listener", o->connect(l, SA(&a), sizeof(a)));
	sd_drop(r, l);
	sd_drop(r, hold);
}

/* connect(2) EINVAL for a short addrlen; EAFNOSUPPORT: "The passed address didn't have the correct
 * address family in its sa_family field." */
static void row_connect_bad_address(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int hold = sd_closed_tcp_port(r, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("connect len 8", o->connect(c, SA(&a), 8));
	a.sin_family = AF_INET6;
	RC("connect family inet6", o->connect(c, SA(&a), sizeof(a)));
	sd_drop(r, c);
	sd_drop(r, hold);
}

/* ================================ rows: listen() / accept() ================================ */

/* listen(2) EOPNOTSUPP: "The socket is not of a type that supports the listen() operation." */
static void row_listen_udp(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int u = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));

	RC("listen unbound", o->listen(u, 4));
	RC("bind", o->bind(u, SA(&a), sizeof(a)));
	RC("listen bound", o->listen(u, 4));
	sd_drop(r, u);
}

/* listen(2) twice: Linux allows it (only the backlog changes); listen on a connected socket is
 * EINVAL (net/ipv4/af_inet.c inet_listen: the socket must be unconnected, in CLOSED or LISTEN). */
static void row_listen_twice_and_connected(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int c, s, l = sd_tcp_conn_l(r, &c, &s, &port, true);

	RC("listen again", o->listen(l, 16));
	RC("listen connected client", o->listen(c, 4));
	RC("listen accepted", o->listen(s, 4));
	sd_drop(r, c);
	sd_drop(r, s);
	sd_drop(r, l);
}

/* listen(2): "If the backlog argument is greater than the value in /proc/sys/net/core/somaxconn,
 * then it is silently capped"; Linux takes a negative backlog as such a large one (an unsigned
 * comparison in __sys_listen), so the call succeeds and the listener accepts. */
static void row_listen_negative_backlog(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, -1, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;

	RC("listen -1", o->listen(l, -1));
	sd_bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	s = FD("accept", o->accept(l, NULL, NULL));
	sd_drop(r, s);
	sd_drop(r, c);
	sd_drop(r, l);
}

/* A connection reset by its client while it waits in the accept queue is still handed out by
 * accept (Linux keeps it queued; accept(2) ECONNABORTED is the BSD alternative); its first recv
 * reports the reset. */
static void row_accept_reset_pending(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;
	char buf[8];

	sd_bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	RC("client linger 0", o->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	sd_poll1(r, "listener pending", l, POLLIN, 2000);
	RC("client close (RST)", o->close(c));
	o->settle();
	RC("fcntl setfl nonblock", o->fcntl(l, F_SETFL, O_NONBLOCK));
	s = FD("accept", o->accept(l, NULL, NULL));
	if (s >= 0) {
		RC("recv", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		RC("recv again", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	}
	sd_drop(r, s);
	sd_drop(r, l);
}

/* listen(2) without bind: the socket gets an ephemeral port (Linux: inet_autobind). */
static void row_listen_unbound(struct run *r)
{
	const struct ops *o = r->o;
	int l = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	RC("listen", o->listen(l, 4));
	memset(&a, 0, sizeof(a));
	if (RC("getsockname", o->getsockname(l, SA(&a), &len)) == 0)
		sd_note_addr(r, "name", &a, len, INADDR_ANY, 0);
	sd_drop(r, l);
}

/* accept(2) EINVAL: "Socket is not listening for connections". */
static void row_accept_not_listening(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int fd = sd_server_sock(r, SOCK_STREAM, -1, &port);
	int f = FD("fresh socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	RC("accept bound", o->accept(fd, NULL, NULL));
	RC("accept fresh", o->accept(f, NULL, NULL));
	sd_drop(r, fd);
	sd_drop(r, f);
}

/* accept(2) EOPNOTSUPP: "The referenced socket is not of type SOCK_STREAM." */
static void row_accept_udp(struct run *r)
{
	uint16_t port;
	int u = sd_server_sock(r, SOCK_DGRAM, -1, &port);

	RC("accept udp", r->o->accept(u, NULL, NULL));
	sd_drop(r, u);
}

/* accept(2) EAGAIN: "The socket is marked nonblocking and no connections are present". */
static void row_accept_nonblock_empty(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);

	RC("fcntl setfl nonblock", o->fcntl(l, F_SETFL, O_NONBLOCK));
	RC("accept", o->accept(l, NULL, NULL));
	sd_drop(r, l);
}

/* accept(2): "addr is filled in with the address of the peer socket"; the accepted socket's own
 * name is the listener's address and port. */
static void row_accept_fills_peer(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port, cport;
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port), p;
	socklen_t len = sizeof(p);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;

	sd_bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	cport = sd_local_port(r, c);
	memset(&p, 0, sizeof(p));
	s = FD("accept", o->accept(l, SA(&p), &len));
	sd_note_addr(r, "accepted peer", &p, len, o->client_addr, cport);
	len = sizeof(p);
	memset(&p, 0, sizeof(p));
	if (RC("accepted getsockname", o->getsockname(s, SA(&p), &len)) == 0)
		sd_note_addr(r, "accepted name", &p, len, o->server_addr, port);
	sd_drop(r, s);
	sd_drop(r, c);
	sd_drop(r, l);
}

/* socket(7) SO_ACCEPTCONN: "whether this socket has been marked to accept connections with
 * listen(2)". */
static void row_so_acceptconn(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int l = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	sd_opt_int(r, "acceptconn fresh", l, SOL_SOCKET, SO_ACCEPTCONN);
	RC("bind", o->bind(l, SA(&a), sizeof(a)));
	RC("listen", o->listen(l, 4));
	sd_opt_int(r, "acceptconn listening", l, SOL_SOCKET, SO_ACCEPTCONN);
	sd_drop(r, l);
}

/* recv(2) ENOTCONN on a listening socket: it has no connection of its own. */
static void row_recv_on_listener(struct run *r)
{
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	char buf[8];

	RC("recv listener", r->o->recv(l, buf, sizeof(buf), MSG_DONTWAIT));
	RC("send listener", r->o->send(l, "x", 1, MSG_NOSIGNAL));
	sd_drop(r, l);
}

/* ================================ rows: TCP data ================================ */

/* The basic exchange: bytes sent one way arrive in order, then the other way (RFC 9293 §3.10.2/4). */
static void row_tcp_roundtrip(struct run *r)
{
	const struct ops *o = r->o;
	char buf[64];
	int c, s;
	long n;

	sd_tcp_conn(r, &c, &s);
	RC("client send", o->send(c, "hello", 5, MSG_NOSIGNAL));
	n = RC("server recv", o->recv(s, buf, sizeof(buf), 0));
	sd_note_bytes(r, "server got", buf, n, "hello", 5);
	RC("server send", o->send(s, "world!", 6, MSG_NOSIGNAL));
	n = RC("client recv", o->recv(c, buf, sizeof(buf), 0));
	sd_note_bytes(r, "client got", buf, n, "world!", 6);
	sd_drop(r, c);
	sd_drop(r, s);
}

/* recv(2) EAGAIN: "The socket is marked nonblocking and the receive operation would block" - by
 * O_NONBLOCK or, for one call, MSG_DONTWAIT. */
static void row_recv_nonblock_empty(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("recv dontwait", o->recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	RC("fcntl setfl nonblock", o->fcntl(s, F_SETFL, O_NONBLOCK));
	RC("recv nonblocking", o->recv(s, buf, sizeof(buf), 0));
	sd_drop(r, c);
	sd_drop(r, s);
}

/* recv(2) ENOTCONN: "The socket is associated with a connection-oriented protocol and has not been
 * connected". */
static void row_recv_unconnected(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));
	char buf[8];

	RC("recv", r->o->recv(fd, buf, sizeof(buf), 0));
	RC("recv dontwait", r->o->recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	sd_drop(r, fd);
}

/* send(2) on an unconnected stream socket: Linux answers EPIPE (sk_stream_wait_connect), and
 * MSG_NOSIGNAL keeps SIGPIPE away. */
static void row_send_unconnected(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("send", r->o->send(fd, "x", 1, MSG_NOSIGNAL));
	sd_drop(r, fd);
}

/* Zero-length recv and send on a connection return 0 at once, data or not (recv(2): "the value 0
 * may also be returned if the requested number of bytes to receive from a stream socket was 0");
 * the data stays queued. */
static void row_tcp_zero_length(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("recv 0 bytes, nothing queued", o->recv(s, buf, 0, 0));
	RC("send 0 bytes", o->send(c, buf, 0, MSG_NOSIGNAL));
	RC("send", o->send(c, "ab", 2, MSG_NOSIGNAL));
	o->settle();
	RC("recv 0 bytes, data queued", o->recv(s, buf, 0, 0));
	RC("recv", o->recv(s, buf, sizeof(buf), 0));
	sd_drop(r, c);
	sd_drop(r, s);
}

/* shutdown(2) SHUT_RDWR: both directions; recv reads end of stream, send is EPIPE, the peer reads
 * end of stream; shutting down again is accepted (the connection is not CLOSED yet). */
static void row_shutdown_rdwr(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("shutdown rdwr", o->shutdown(c, SHUT_RDWR));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("send", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	RC("shutdown again", o->shutdown(c, SHUT_RDWR));
	sd_drop(r, c);
	sd_drop(r, s);
}

/* send(2) EPIPE: "The local end has been shut down on a connection oriented socket." The peer
 * still sees the bytes sent before, then end of stream (RFC 9293 §3.10.4 CLOSE, half-close). */
static void row_send_after_shutdown_wr(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;
	long n;

	sd_tcp_conn(r, &c, &s);
	RC("send", o->send(c, "ab", 2, MSG_NOSIGNAL));
	RC("shutdown wr", o->shutdown(c, SHUT_WR));
	RC("send after shutdown", o->send(c, "x", 1, MSG_NOSIGNAL));
	n = RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	sd_note_bytes(r, "peer got", buf, n, "ab", 2);
	RC("peer recv eof", o->recv(s, buf, sizeof(buf), 0));
	sd_drop(r, c);
	sd_drop(r, s);
}

/* Half-close (RFC 9293 §3.6): after the client's FIN the server reads end of stream, and can still
 * send; the client still receives. */
static void row_half_close(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;
	long n;

	sd_tcp_conn(r, &c, &s);
	RC("client shutdown wr", o->shutdown(c, SHUT_WR));
	RC("server recv eof", o->recv(s, buf, sizeof(buf), 0));
	RC("server send", o->send(s, "late", 4, MSG_NOSIGNAL));
	n = RC("client recv", o->recv(c, buf, sizeof(buf), 0));
	sd_note_bytes(r, "client got", buf, n, "late", 4);
	RC("server close", o->close(s));
	RC("client recv eof", o->recv(c, buf, sizeof(buf), 0));
	sd_drop(r, c);
}

/* recv(2): "When a stream socket peer has performed an orderly shutdown, the return value will be
 * 0 (the traditional 'end-of-file' return)", every time. */
static void row_recv_after_peer_close(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("peer close", o->close(s));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("recv again", o->recv(c, buf, sizeof(buf), 0));
	sd_poll1(r, "poll in", c, POLLIN | POLLOUT, 0);
	sd_drop(r, c);
}

/* A peer that aborts (socket(7) SO_LINGER with a zero timeout: close sends a RST, RFC 9293 §3.10.4
 * ABORT) makes the next recv fail with ECONNRESET (RFC 9293 §3.10.7.4: "connection reset"); the
 * error is reported once, then recv reads end of stream. */
static void row_recv_after_peer_reset(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("peer linger 0", o->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	RC("peer close", o->close(s));
	o->settle();
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("recv again", o->recv(c, buf, sizeof(buf), 0));
	sd_drop(r, c);
}

/* send after the peer reset the connection: the pending error first (ECONNRESET), then EPIPE for a
 * connection that is gone (send(2) EPIPE, ECONNRESET "Connection reset by peer"). */
static void row_send_after_peer_reset(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("peer linger 0", o->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	RC("peer close", o->close(s));
	o->settle();
	RC("send", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("send again", o->send(c, "x", 1, MSG_NOSIGNAL));
	sd_drop(r, c);
}

/* Writing to a peer that has closed: the first send is accepted (we are in CLOSE-WAIT, RFC 9293
 * §3.10.2), the closed peer answers the data with a RST (RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.13),
 * and the RST in CLOSE-WAIT makes Linux report EPIPE (net/ipv4/tcp_input.c tcp_reset) while recv
 * still reads the end of stream it had. */
static void row_send_after_peer_close(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("peer close", o->close(s));
	o->settle();
	RC("send", o->send(c, "x", 1, MSG_NOSIGNAL));
	o->settle();
	RC("send again", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	sd_drop(r, c);
}

/* socket(7) SO_LINGER {1, 0}: close aborts with a RST; the option reads back as set. The peer's
 * poll reports the error and hang-up, and its recv ECONNRESET. */
static void row_so_linger_zero(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 }, got;
	socklen_t len = sizeof(got);
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	memset(&got, 0x55, sizeof(got));
	if (RC("get linger default", o->getsockopt(c, SOL_SOCKET, SO_LINGER, &got, &len)) == 0)
		sd_note(r, "linger default: len %u onoff %d linger %d", (unsigned)len, got.l_onoff,
		     got.l_linger);
	RC("set linger 0", o->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	len = sizeof(got);
	if (RC("get linger", o->getsockopt(c, SOL_SOCKET, SO_LINGER, &got, &len)) == 0)
		sd_note(r, "linger: len %u onoff %d linger %d", (unsigned)len, got.l_onoff, got.l_linger);
	RC("close", o->close(c));
	/* wait for the RST (POLLERR/POLLHUP are always reported), then look at everything */
	sd_poll1(r, "peer poll in", s, POLLIN, 2000);
	sd_poll1(r, "peer poll", s, POLLIN | POLLOUT | POLLRDHUP, 0);
	RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	sd_drop(r, s);
}

/* RFC 2525 §2.17 / RFC 1122 §4.2.2.13: closing with unread received data sends a RST, not a FIN;
 * the peer's recv reports ECONNRESET. */
static void row_close_with_unread_data(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("server send", o->send(s, "unread", 6, MSG_NOSIGNAL));
	o->settle();
	RC("client close", o->close(c));
	o->settle();
	RC("server recv", o->recv(s, buf, sizeof(buf), 0));
	sd_drop(r, s);
}

const struct row sd_rows_a[] = {
	{ "socket_kinds", row_socket_kinds },
	{ "socket_bad_family", row_socket_bad_family },
	{ "socket_bad_type", row_socket_bad_type },
	{ "socket_type_protocol_mismatch", row_socket_type_protocol_mismatch },
	{ "socket_nonblock_flag", row_socket_nonblock_flag },
	{ "bind_twice", row_bind_twice },
	{ "bind_port_in_use", row_bind_port_in_use },
	{ "bind_udp_port_in_use", row_bind_udp_port_in_use },
	{ "bind_udp_reuseaddr", row_bind_udp_reuseaddr },
	{ "bind_reuseaddr_listening", row_bind_reuseaddr_listening },
	{ "bind_reuseaddr_neither_listening", row_bind_reuseaddr_neither_listening },
	{ "bind_timewait_reuseaddr", row_bind_timewait_reuseaddr },
	{ "bind_timewait_no_reuseaddr", row_bind_timewait_no_reuseaddr },
	{ "bind_nonlocal", row_bind_nonlocal },
	{ "bind_short_addrlen", row_bind_short_addrlen },
	{ "bind_family", row_bind_family },
	{ "bind_after_connect", row_bind_after_connect },
	{ "connect_refused", row_connect_refused },
	{ "connect_refused_nonblock", row_connect_refused_nonblock },
	{ "connect_twice", row_connect_twice },
	{ "connect_nonblock_twice", row_connect_nonblock_twice },
	{ "connect_nonblock_completes", row_connect_nonblock_completes },
	{ "connect_listening", row_connect_listening },
	{ "connect_bad_address", row_connect_bad_address },
	{ "listen_udp", row_listen_udp },
	{ "listen_twice_and_connected", row_listen_twice_and_connected },
	{ "listen_unbound", row_listen_unbound },
	{ "listen_negative_backlog", row_listen_negative_backlog },
	{ "accept_reset_pending", row_accept_reset_pending },
	{ "accept_not_listening", row_accept_not_listening },
	{ "accept_udp", row_accept_udp },
	{ "accept_nonblock_empty", row_accept_nonblock_empty },
	{ "accept_fills_peer", row_accept_fills_peer },
	{ "so_acceptconn", row_so_acceptconn },
	{ "recv_on_listener", row_recv_on_listener },
	{ "tcp_roundtrip", row_tcp_roundtrip },
	{ "recv_nonblock_empty", row_recv_nonblock_empty },
	{ "recv_unconnected", row_recv_unconnected },
	{ "send_unconnected", row_send_unconnected },
	{ "tcp_zero_length", row_tcp_zero_length },
	{ "shutdown_rdwr", row_shutdown_rdwr },
	{ "send_after_shutdown_wr", row_send_after_shutdown_wr },
	{ "half_close", row_half_close },
	{ "recv_after_peer_close", row_recv_after_peer_close },
	{ "recv_after_peer_reset", row_recv_after_peer_reset },
	{ "send_after_peer_reset", row_send_after_peer_reset },
	{ "send_after_peer_close", row_send_after_peer_close },
	{ "so_linger_zero", row_so_linger_zero },
	{ "close_with_unread_data", row_close_with_unread_data },
};
const int sd_n_rows_a = (int)(sizeof(sd_rows_a) / sizeof(sd_rows_a[0]));
