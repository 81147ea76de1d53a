/*
 * src/posix/alloc.c - ptio_alloc_heap: the allocator hook (ptio/bytes.h)
 * over the C library's realloc and free, for hosted builds.
 *
 * The core never allocates; this is what a hosted program passes to
 * ptio_bytes_init to let read_to_end grow its buffer on the heap.
 */
#include <stdlib.h>
#include <ptio/bytes.h>

static void *heap_resize(void *ctx, void *ptr, size_t old_size,
			 size_t new_size)
{
	(void)ctx;
	(void)old_size;
	if (new_size == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, new_size);
}

const struct ptio_alloc ptio_alloc_heap = { heap_resize, NULL };
