// Ikinyarwanda (igice: ibitari hano byerekanwa mu Cyongereza).
export default {
  'app.loading': 'Birimo gufunguka…',
  'nav.menu': 'Menyu',
  'nav.stations': 'Sitasiyo',

  'action.signOut': 'Sohoka',
  'action.cancel': 'Hagarika',
  'action.save': 'Bika',

  'signin.title': 'Injira',
  'signin.submit': 'Injira',
  'expired.title': 'Igihe cyawe cyarangiye',
  'expired.body': 'Ongera winjire kugira ngo ukomeze aho wari ugeze.',
  'operator.open': 'Fungura porogaramu ya Sitasiyo',

  'field.email': 'Imeli',
  'field.password': 'Ijambo ry\'ibanga',
  'field.name': 'Izina',
  'field.language': 'Ururimi',
  'field.amount': 'Amafaranga',
  'field.phone': 'Nimero ya telefone',
  'field.station': 'Sitasiyo',

  'stations.title': 'Sitasiyo',
  'error.offline': 'Nta murandasi. Reba interineti wongere ugerageze.',
};
