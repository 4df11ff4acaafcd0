package main

import (
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// testDefault is libvirt's test:///default, opened twice: conn as vsched
// opens it, and raw, a second connection sharing its state (every
// connection to test:///default in a process does), to change the domain
// "test" behind vsched's back. The state lasts while a connection is open:
// each test gets a fresh one.
type testDefault struct {
	conn     *pinning.Conn
	raw      *libvirt.Connect
	uuid     string
	saveFile string // the file of a virsh save
}

func openTestDefault(t *testing.T) *testDefault {
	t.Helper()
	raw, err := libvirt.NewConnect("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = raw.Close() })
	conn, err := pinning.Open("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	td := &testDefault{conn: conn, raw: raw, saveFile: filepath.Join(t.TempDir(), "test.save")}
	td.on(t, func(d *libvirt.Domain) (err error) { td.uuid, err = d.GetUUIDString(); return err })
	return td
}

// on runs f on the domain, by UUID once known (it may be renamed).
func (td *testDefault) on(t *testing.T, f func(d *libvirt.Domain) error) {
	t.Helper()
	var d *libvirt.Domain
	var err error
	if td.uuid == "" {
		d, err = td.raw.LookupDomainByName("test")
	} else {
		d, err = td.raw.LookupDomainByUUIDString(td.uuid)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Free() }()
	if err := f(d); err != nil {
		t.Fatal(err)
	}
}

func (td *testDefault) optOut(t *testing.T) {
	td.on(t, func(d *libvirt.Domain) error {
		return d.SetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, `<vsched manage="no"/>`, "vsched", pinning.MetadataNS, libvirt.DOMAIN_AFFECT_LIVE)
	})
}

func (td *testDefault) destroy(t *testing.T) { td.on(t, (*libvirt.Domain).Destroy) }
func (td *testDefault) create(t *testing.T)  { td.on(t, (*libvirt.Domain).Create) }
func (td *testDefault) undefine(t *testing.T) {
	td.on(t, (*libvirt.Domain).Undefine)
}
func (td *testDefault) restart(t *testing.T) { td.destroy(t); td.create(t) }

func (td *testDefault) save(t *testing.T) {
	td.on(t, func(d *libvirt.Domain) error { return d.Save(td.saveFile) })
}

func (td *testDefault) restoreSaved(t *testing.T) {
	t.Helper()
	if err := td.raw.DomainRestore(td.saveFile); err != nil {
		t.Fatal(err)
	}
}

func (td *testDefault) managedSave(t *testing.T) {
	td.on(t, func(d *libvirt.Domain) error { return d.ManagedSave(0) })
}

func (td *testDefault) rename(t *testing.T, name string) {
	td.on(t, func(d *libvirt.Domain) error { return d.Rename(name, 0) })
}

func vcpuID(uuid string, vcpu int) balancer.VCPUID { return balancer.VCPUID{Domain: uuid, VCPU: vcpu} }

// writeV1 writes a version 1 checkpoint, as an older vsched did, into dir;
// CK in text stands for its checksum.
func writeV1(t *testing.T, dir, text string) {
	t.Helper()
	var doc struct {
		Version int `json:"version"`
		Entries []struct {
			UUID     string `json:"uuid"`
			VCPU     int    `json:"vcpu"`
			Name     string `json:"name"`
			Original string `json:"original"`
			Set      string `json:"set"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(strings.Replace(text, "CK", "0", 1)), &doc); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	sum := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, checkpoint.FileName)
	if err := os.WriteFile(path, []byte(strings.Replace(text, "CK", strconv.FormatUint(uint64(sum), 10), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
