/*
 * src/sim/sim-seeds.c - the seed runner (ptio/sim.h, section 3).
 *
 * It reads no environment and prints nothing (the kit is freestanding):
 * the caller hands it the variables' text and prints its message.
 */
#include <ptio/sim.h>
#include <ptio/fmt.h>

/* Parse TEXT as a decimal number that fits 32 bits. */
static bool parse_u32(const char *text, uint32_t *out)
{
	uint64_t v = 0;

	if (text == NULL || *text == '\0')
		return false;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return false;
		v = v * 10u + (uint64_t)(*text - '0');
		if (v > 0xFFFFFFFFu)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

void ptio_sim_seeds_init(struct ptio_sim_seeds *s, uint32_t count,
			 const char *one, const char *count_text)
{
	uint32_t n;

	s->first = 1;
	s->last = count;
	s->failed = 0;
	s->result = 0;
	s->ran = 0;
	s->message[0] = '\0';
	if (parse_u32(count_text, &n))
		s->last = n;
	if (parse_u32(one, &n))
		s->first = s->last = n;
}

int ptio_sim_seeds_run(struct ptio_sim_seeds *s, ptio_sim_scenario fn,
		       void *ctx)
{
	uint32_t seed = s->first;

	if (s->first > s->last)
		return 0;
	for (;;) {
		int r = fn(seed, ctx);

		s->ran++;
		if (r != 0) {
			s->failed = seed;
			s->result = r;
			(void)ptio_format(s->message, sizeof(s->message),
					  "seed %lu failed (%d); rerun it "
					  "alone with PTIO_SIM_SEED=%lu",
					  (unsigned long)seed, r,
					  (unsigned long)seed);
			return -1;
		}
		if (seed == s->last)
			return 0;
		seed++;
	}
}
