#!/usr/bin/env python3
"""Builds the demo city's small data excerpts from the real open data sets.

Usage: make_excerpts.py SHARED_DATA_DIR OUT_DIR

Deterministic: the same inputs give byte-identical outputs. See README.md in
this folder for the sources and their licences.
"""
import csv
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone

SMART_METERS = ["MAC000002", "MAC000003", "MAC000004", "MAC000005", "MAC000006"]
READINGS_PER_METER = 672  # two weeks of half-hourly readings
TRIPS = 1500
FOOTFALL_DAYS = 7
ANPR_PASSAGES = 2000


def energy(src, out):
    with open(os.path.join(out, "energy.meter_readings.csv"), "w", newline="") as f:
        f.write("LCLid,tstp,energy(kWh/hh)\n")
        for meter in SMART_METERS:
            with open(os.path.join(src, "smartmeter", meter + ".csv")) as m:
                lines = m.read().splitlines()[1:READINGS_PER_METER + 1]
            for line in lines:
                f.write(line + "\n")


def trips(src, out):
    with open(os.path.join(src, "mobility", "citibike_JC-201601-tripdata.csv")) as f:
        lines = f.read().splitlines()
    with open(os.path.join(out, "mobility.trips.csv"), "w") as f:
        f.write("\n".join(lines[:TRIPS + 1]) + "\n")


def footfall(src, out):
    locations = {}
    with open(os.path.join(src, "pedestrian", "Pedestrian_sensor_locations.csv")) as f:
        for row in csv.DictReader(f):
            locations[row["Sensor ID"]] = (float(row["Latitude"]), float(row["Longitude"]))
    rows = []
    with open(os.path.join(src, "pedestrian", "pedestrian_counts_2014Q1.csv")) as f:
        for row in csv.DictReader(f):
            day = datetime.strptime(row["Date"], "%d-%b-%Y")
            if day.day > FOOTFALL_DAYS or day.month != 1:
                continue
            if row["SensorID"] not in locations:
                continue
            # Melbourne local time (AEDT, UTC+11 in January) to UTC.
            local = day + timedelta(hours=int(row["Hour"]))
            t = (local - timedelta(hours=11)).replace(tzinfo=timezone.utc)
            lat, lon = locations[row["SensorID"]]
            rows.append((t, int(row["SensorID"]), row["SensorName"], lat, lon,
                         int(row["PedestrianCount"])))
    rows.sort()
    with open(os.path.join(out, "footfall.counts.ndjson"), "w") as f:
        for t, sid, name, lat, lon, count in rows:
            f.write(json.dumps({"time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "sensor_id": sid,
                                "sensor_name": name, "location": {"lat": lat, "lon": lon},
                                "count": count}, separators=(",", ":")) + "\n")


def plate(n):
    """A Dutch-style plate (sidecode 99-XXX-9) derived from n: not a real read."""
    h = hashlib.sha256(b"demo-plate-%d" % n).digest()
    letters = "BDFGHJKLNPRSTVXZ"
    return "%02d-%s%s%s-%d" % (h[0] % 100, letters[h[1] % 16], letters[h[2] % 16],
                               letters[h[3] % 16], h[4] % 10)


def anpr(src, out):
    cameras = []
    with open(os.path.join(src, "anpr-cameras", "helpertable.csv")) as f:
        for row in csv.DictReader(f):
            if not row["camera_naam"] or not row["latitude"]:
                continue
            name = row["camera_naam"]
            lane = 0
            if "Rijstrook" in name:
                try:
                    lane = int(name.split("Rijstrook")[1].split()[0])
                except ValueError:
                    lane = 0
            heading = float(row["camera_kijkrichting"] or 0)
            cameras.append((name.split(" - ")[0], float(row["latitude"]),
                            float(row["longitude"]), lane, heading))
    cameras = sorted(set(cameras))[:60]
    start = datetime(2024, 3, 4, tzinfo=timezone.utc)
    vehicles = [plate(i) for i in range(300)]
    with open(os.path.join(out, "traffic.anpr.ndjson"), "w") as f:
        for i in range(ANPR_PASSAGES):
            h = hashlib.sha256(b"passage-%d" % i).digest()
            cam = cameras[h[0] % len(cameras)]
            vehicle = vehicles[int.from_bytes(h[1:3], "big") % len(vehicles)]
            t = start + timedelta(seconds=int.from_bytes(h[3:6], "big") % 86400)
            note = ""
            if h[6] % 10 == 0:
                note = "operator note: follow-up on %s requested by ops@demo-city.example" % vehicle
            elif h[6] % 10 == 1:
                note = "camera reboot, controller MAC 00:1A:2B:3C:4D:%02X" % h[7]
            rec = {"plate": vehicle, "camera_id": cam[0], "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "location": {"lat": cam[1], "lon": cam[2]}, "lane": cam[3],
                   "heading": cam[4]}
            if note:
                rec["note"] = note
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    energy(src, out)
    trips(src, out)
    footfall(src, out)
    anpr(src, out)


if __name__ == "__main__":
    main()
