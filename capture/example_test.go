package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/sample"
)

// Read a capture frame by frame and decode each frame into the summary
// that judging takes. The sample's capture stands in for yours: NewReader
// takes any io.Reader, such as an opened pcap or pcapng file, and tells
// the two apart by their first bytes.
func ExampleReader() {
	rd, err := capture.NewReader(bytes.NewReader(sample.Capture()))
	if err != nil {
		log.Fatal(err)
	}
	d := eni.NewDecoder()
	var f capture.Frame
	var p eni.Packet
	frames := 0
	for {
		err := rd.ReadFrame(&f) // f.Data is reused by the next read
		if errors.Is(err, io.EOF) {
			break
		}
		var cut *capture.TruncatedError
		if errors.As(err, &cut) {
			// Every complete frame was read; the rest of the file is lost.
			log.Printf("cut short: %v", err)
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		frames++
		if frames <= 3 {
			capture.Decode(d, &f, false, &p)
			fmt.Printf("%d %s %d bytes: %s\n", f.Number, f.Time.UTC().Format("15:04:05.000000"), f.WireLen, p)
		}
	}
	fmt.Println(frames, "frames")
	// Output:
	// 1 09:30:00.000700 54 bytes: tcp 198.51.100.1:50000 → 10.20.1.10:443 [SYN]
	// 2 09:30:00.001500 54 bytes: tcp 10.20.1.10:443 → 198.51.100.1:50000 [SYN,ACK]
	// 3 09:30:00.002400 54 bytes: tcp 198.51.100.1:50000 → 10.20.1.10:443 [ACK]
	// 348 frames
}
