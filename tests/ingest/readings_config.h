// The city the ingest tests ingest into: one personal stream of meter
// readings, pseudonymised by meter, with daily epochs.
#ifndef PRIVACITY_TESTS_INGEST_READINGS_CONFIG_H_
#define PRIVACITY_TESTS_INGEST_READINGS_CONFIG_H_

namespace privacity::ingest::testing {

inline constexpr char kReadingsConfig[] = R"(
city: {name: Test City, controller: Office, contact: dpo@test.example}
purposes:
  - {id: planning, legal_basis: public-task}
streams:
  - id: energy.readings
    subject: meter
    time: time
    epoch: 1d
    purposes: [planning]
    fields:
      - {name: meter, type: string, category: subject-identifier, required: true, transform: pseudonymize}
      - {name: time, type: time, category: time, required: true}
      - {name: kwh, type: number, category: measurement}
parties: []
agreements: []
)";

}  // namespace privacity::ingest::testing

#endif  // PRIVACITY_TESTS_INGEST_READINGS_CONFIG_H_
