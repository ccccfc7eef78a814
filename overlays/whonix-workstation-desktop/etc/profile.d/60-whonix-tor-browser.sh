# whonix-build: Tor Browser uses the Gateway's Tor instead of starting its
# own (no Tor over Tor).  The Workstation's local ports 9150 (SOCKS) and
# 9051 (the Gateway's filtered control port) lead to the Gateway
# (whonix-tor-port@.socket).  Read by login shells, and by the graphical
# session through /etc/X11/Xsession.d/60whonix-tor-browser; its programs
# inherit it.
export TOR_SKIP_LAUNCH=1
export TOR_SOCKS_HOST=127.0.0.1
export TOR_SOCKS_PORT=9150
export TOR_CONTROL_HOST=127.0.0.1
export TOR_CONTROL_PORT=9051
# No password or cookie: Tor Browser then authenticates with an empty one,
# which the filter on the Gateway accepts (it decides itself what the
# Workstation may ask).
