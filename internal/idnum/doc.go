// Package idnum checks, masks, finds and hashes Chinese identity numbers and unified social credit codes.
//
// Facts and sources (see /work/shared/docs/DEVICES.md section 2):
//
//   - Citizen ID number, GB 11643-1999: 6 address digits, 8 birth-date digits YYYYMMDD,
//     3 sequence digits (odd = male), 1 check character. The check is ISO 7064 MOD 11-2:
//     weights 2^(17-i) mod 11 = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, check value
//     (12 - S mod 11) mod 11 with 10 written 'X'. Sources: afanti-com/utils-go
//     idCardNo/idCardNo.go; guanguans/id-validator. Residence permits of Hong Kong,
//     Macau and Taiwan residents (810000/820000/830000...) and the 2023 foreign permanent
//     resident numbers (starting with 9) follow the same rule.
//   - Legacy 15-digit numbers have a 2-digit year and no check character; upgrading
//     inserts "19" after the address code and appends the computed check.
//   - Foreign permanent resident numbers: 15 characters on 2017 cards, 3 capital letters
//     and 12 digits, whose check rule is not public; 18 digits starting with 9 and the
//     MOD 11-2 check on 2023 cards. FindIDs documents what a log scan matches.
//   - Unified social credit code, GB 32100-2015: 18 characters over the 31-character
//     alphabet 0-9 A-H J-N P-R T U W-Y (no I O S V Z), weights 3^i mod 31, check value
//     (31 - S mod 31) mod 31. Source: aarioai/id-rule chinese_org_id.go. Early pilot codes
//     exist that fail the check (e.g. 91350100M0001TGQXM), so callers warn rather than reject.
//
// Masking follows DOMAIN.md "Personal data": ID numbers show the first 6 and last 4
// characters, names keep their first character, addresses keep only the administrative
// units down to the district or county.
package idnum
