/* version.h: the one place the release number lives. */
#ifndef TICKERD_VERSION_H
#define TICKERD_VERSION_H

#define TICKERD_VERSION "0.1.0"
#define TICKERD_SERVER  "tickerd/" TICKERD_VERSION

#endif
