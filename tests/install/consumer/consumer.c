/* Marks step 7 and says whether it is recorded: linked against the installed libddrr.so. */
#include <ddrr/ddrr.h>
#include <stdio.h>

int main(void) {
  ddrr_mark("consumer", 7);
  printf("ddrr_enabled=%d\n", ddrr_enabled());
  return 0;
}
