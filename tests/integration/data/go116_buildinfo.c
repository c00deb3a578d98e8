/* The layout of a Go 1.16 linux/amd64 binary's build information, made with a
 * C compiler: a .go.buildinfo header pointing at the runtime.buildVersion and
 * runtime.modinfo string headers, whose bytes are read-only data. */
#include <stdio.h>
struct gostring { const char *p; long n; };
#define START "\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6"
#define END "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2"
static const char version[] = "go1.16.15";
static const char modinfo[] = START "path\texample.com/oldapp\nmod\texample.com/oldapp\t(devel)\t\n"
	"dep\tgolang.org/x/text\tv0.3.5\th1:abc=\n"
	"dep\tgithub.com/gorilla/websocket\tv1.4.0\th1:def=\n=>\tgithub.com/gorilla/websocket\tv1.4.2\th1:ghi=\n" END;
struct gostring runtime_buildVersion = { version, sizeof(version) - 1 };
struct gostring runtime_modinfo = { modinfo, sizeof(modinfo) - 1 };
__attribute__((section(".go.buildinfo"), aligned(16))) struct {
	char magic[14];
	unsigned char ptrsize, flags;
	struct gostring *version, *modinfo;
} buildinfo = { "\xff Go buildinf:", 8, 0, &runtime_buildVersion, &runtime_modinfo };
__attribute__((section(".note.go.buildid"), aligned(4))) const struct {
	unsigned namesz, descsz, type;
	char name[4], desc[8];
} go_note = { 4, 8, 4, "Go", "buildid" };
int main(void) { printf("%s %zu\n", runtime_buildVersion.p, sizeof(buildinfo) + go_note.namesz); return 0; }
