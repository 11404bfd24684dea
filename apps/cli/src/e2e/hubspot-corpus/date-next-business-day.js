// The next business day after a date, skipping weekends and the listed holidays.
exports.main = (event, callback) => {
  const holidays = (event.inputFields.holidays || '').split(',').filter(Boolean);
  const day = new Date(event.inputFields.date + 'T12:00:00Z');
  do {
    day.setUTCDate(day.getUTCDate() + 1);
  } while (day.getUTCDay() === 0 || day.getUTCDay() === 6 || holidays.includes(day.toISOString().slice(0, 10)));
  const weekday = day.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
  callback({ outputFields: { next_business_day: day.toISOString().slice(0, 10), weekday } });
};
