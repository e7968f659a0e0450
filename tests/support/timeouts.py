"""How long a test waits for the server before calling it hung (not a performance bound)."""

# Generous on purpose: CI shares 2 cores between the server, PostgreSQL and the test client; a
# loaded machine once took over 10 s to answer a BootNotification, and over 10 s (websockets'
# default open_timeout) to complete an opening handshake. A hung server still fails.
ANSWER_TIMEOUT_S = 30.0
