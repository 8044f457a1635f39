/* SPDX-License-Identifier: Apache-2.0 */
/* shim/trim.h — give back what a library call left resident. */
#ifndef CELLA_SHIM_TRIM_H
#define CELLA_SHIM_TRIM_H

/* After a burst of library work (create, exec, delete): free heap pages
 * (malloc_trim) and drop this process's mappings of program text pages
 * and read-only data pages (MADV_DONTNEED on the file mappings that are
 * r-xp, or r--p without anonymous pages: the shim's binary, libc, ld.so).
 * They were never written, so nothing is lost: a page used again is mapped
 * back from the page cache on its next use (a minor fault). The relro
 * segment (r--p, relocated: anonymous pages) is left alone. The shim idles between calls; its resident set there is what
 * the loop touches, not what one create touched. */
void shim_trim(void);

#endif
