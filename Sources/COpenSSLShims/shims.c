// Every shim is a static inline function in include/COpenSSLShims.h; SwiftPM needs one source file.
#include "COpenSSLShims.h"
