/* eio.c: Engine.IO / Socket.IO packet kinds and the client's answers. */
#include "eio.h"

#include <string.h>
#include <sys/socket.h>

enum eio_kind
eio_classify(size_t pos, uint8_t b)
{
	if (pos == 0) /* Engine.IO packet type */
		return b == '0'   ? EIO_OPEN
		       : b == '2' ? EIO_PING
		       : b == '4' ? EIO_UNKNOWN /* a Socket.IO packet: see
		                                   its type next */
		                  : EIO_OTHER;
	return b == '0' ? EIO_CONNECT : b == '2' ? EIO_EVENT : EIO_OTHER;
}

int
eio_send(int fd, const char *text)
{
	size_t n = strlen(text);
	uint8_t f[6 + 125] = {0x81}; /* FIN, text; mask key 0 */

	if (n > 125)
		return -1;
	f[1] = (uint8_t)(0x80 | n);
	memcpy(f + 6, text, n);
	return send(fd, f, 6 + n, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	               (ssize_t)(6 + n)
	           ? 0
	           : -1;
}
